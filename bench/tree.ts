import type { Pool } from '../src/db/index.js';
import { lastLogId, waitSettled } from './logs.js';

export interface TreeResult {
  rows: number;
  levels: number;
  /** Seconds from the commit of the one INSERT to the last row synced. */
  seconds: number;
  /** Rows whose account lacks its manager's (written before it; must be 0). */
  beforeParent: number;
  statuses: Record<string, number>;
}

/**
 * A tree of `rows` users, `levels` deep (users.manager_id, the example's
 * hierarchy), inserted in one statement, leaves first; then every row must be
 * synced, each after its parent.
 */
export async function runTree(pool: Pool, rows: number, levels: number, firstId: number): Promise<TreeResult> {
  const after = await lastLogId(pool);
  // Level sizes grow geometrically; each row's manager is a row one level up.
  const perLevel = Array.from({ length: levels }, (_, i) => Math.max(1, Math.round((rows * 2 ** i) / (2 ** levels - 1))));
  perLevel[levels - 1]! += rows - perLevel.reduce((a, b) => a + b, 0);
  const ids: number[] = [];
  const managers: (number | null)[] = [];
  let start = firstId;
  perLevel.forEach((size, level) => {
    for (let i = 0; i < size; i++) {
      ids.push(start + i);
      managers.push(level === 0 ? null : start - perLevel[level - 1]! + (i % perLevel[level - 1]!));
    }
    start += size;
  });
  const {
    rows: [committed],
  } = await pool.query<{ at: Date }>(
    `WITH ins AS (INSERT INTO portal.users (id, full_name, manager_id)
                  SELECT id, 'tree ' || id, manager FROM unnest($1::int[], $2::int[]) WITH ORDINALITY AS t (id, manager, n)
                  ORDER BY n DESC RETURNING 1)
     SELECT clock_timestamp() AS at FROM (SELECT count(*) FROM ins) c`,
    [ids, managers],
  );
  await waitSettled(pool, after, rows, 600_000);
  // parentid comes from ctx.parents: it is right only when the manager's account was there first.
  const {
    rows: [r],
  } = await pool.query(
    `SELECT (SELECT extract(epoch FROM max(synced_at) - $3::timestamptz) FROM ferry.database_trigger_log WHERE id > $2) AS seconds,
            count(*) FILTER (WHERE a.parentid IS DISTINCT FROM u.manager_id::text)::int AS before_parent
       FROM portal.users u LEFT JOIN salesforce.account a ON a.portal_user_id__c = u.id::text
      WHERE u.id >= $1`,
    [firstId, after, committed!.at],
  );
  const { rows: st } = await pool.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM ferry.database_trigger_log WHERE id > $1 GROUP BY status`,
    [after],
  );
  return { rows, levels, seconds: Number(r.seconds), beforeParent: r.before_parent, statuses: Object.fromEntries(st.map((s) => [s.status, s.n])) };
}
