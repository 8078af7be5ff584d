// The floor under any log-based carrier of a burst (`npm run bench:bulk-floor`,
// and the bench's "Ferry ÷ floor" line): the bench's plain loop (bulk.ts:
// keyset pages of users, the transform, one upsert per page) against the same
// loop driven by the log, with only the bookkeeping a log-based carrier cannot
// skip, added step by step. No Temporal, no supersession, conflict or parent
// checks. Each round gets a fresh burst (captured by Ferry's triggers, no
// Ferry running), then the plain loop on those rows, then the variant.
import type { Pool, PoolClient } from 'pg';
import { runPlainLoop, transformAndUpsert } from './bulk.js';

const PAGE = 500;
const LOG = 'ferry.database_trigger_log';

export interface Steps {
  mark: boolean;
  claim: boolean;
  lock: boolean;
}

export const FLOOR_VARIANTS: { name: string; steps: Steps }[] = [
  { name: 'read logs + source rows, transform, upsert', steps: { mark: false, claim: false, lock: false } },
  { name: '+ mark each log synced', steps: { mark: true, claim: false, lock: false } },
  { name: '+ claim each log first', steps: { mark: true, claim: true, lock: false } },
  { name: '+ a row lock per log', steps: { mark: true, claim: true, lock: true } },
];
/** The line Ferry's burst is held against: every step a log-based carrier cannot skip. */
export const ROW_LOCK_LINE = FLOOR_VARIANTS.at(-1)!;

/** One page of logs, in one transaction, with the steps asked for; returns how many. */
async function page(c: PoolClient, after: number, steps: Steps): Promise<{ n: number; last: number }> {
  const { rows: logs } = await c.query<{ id: number }>(
    `SELECT id FROM ${LOG} WHERE status = 'pending' AND dispatched_at IS NULL AND id > $1 ORDER BY id LIMIT $2`,
    [after, PAGE],
  );
  if (!logs.length) return { n: 0, last: after };
  const ids = logs.map((l) => l.id);
  if (steps.claim) await c.query(`UPDATE ${LOG} SET dispatched_at = now(), claimed_by = 1, workflow_id = 'floor' WHERE id = ANY($1)`, [ids]);
  const { rows } = await c.query<{ row_key: string; row: Record<string, unknown> }>(
    `SELECT l.row_key, to_jsonb(u) AS row FROM ${LOG} l JOIN portal.users u ON u.id = l.row_key::int WHERE l.id = ANY($1) ORDER BY l.id`,
    [ids],
  );
  if (steps.lock)
    await c.query(`SELECT count(pg_advisory_xact_lock(hashtextextended('portal.users|' || k, 0))) FROM unnest($1::text[]) k`, [
      rows.map((r) => r.row_key),
    ]);
  await transformAndUpsert(c, rows);
  if (steps.mark) await c.query(`UPDATE ${LOG} SET status = 'synced', synced_at = now(), workflow_id = 'floor' WHERE id = ANY($1)`, [ids]);
  return { n: rows.length, last: ids.at(-1)! };
}

/** One round: `rows` fresh users, the plain loop on them, then the variant; rows/s of both. */
export async function runFloorRound(pool: Pool, rows: number, steps: Steps): Promise<{ rate: number; plainRate: number }> {
  await pool.query(`BEGIN; SET LOCAL ferry.allow_truncate = on; TRUNCATE portal.users, portal.orders, ${LOG} CASCADE; COMMIT`);
  await pool.query(`INSERT INTO portal.users (email, full_name) SELECT 'bulk' || i || '@example.com', 'bulk ' || i FROM generate_series(1, $1) i`, [
    rows,
  ]);
  await pool.query(`ANALYZE ${LOG}`);
  const plain = await runPlainLoop(pool, PAGE); // analyzes portal.users
  await pool.query('TRUNCATE bench.account_twin');
  const t0 = performance.now();
  let done = 0;
  const c = await pool.connect();
  try {
    for (let after = 0, n = 1; n > 0; done += n) {
      await c.query('BEGIN');
      ({ n, last: after } = await page(c, after, steps));
      await c.query('COMMIT');
    }
  } finally {
    c.release();
  }
  return { rate: done / ((performance.now() - t0) / 1000), plainRate: plain.rowsPerSec };
}
