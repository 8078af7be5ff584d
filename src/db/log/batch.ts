// What a batch reads and stamps of its logs: both ends of each row's pending
// logs, its own logs, the logs it pulls in, and the syncLog a leaving log gets.
import type { Queryable } from '../pool.js';
import { notPaused } from '../paused-mappings.js';
import type { FinishedLog } from './final.js';
import type { LogRow } from './row.js';
import { CHANGE, LOG } from './sql.js';

/**
 * Both ends of each of a mapping's rows' pending logs, in one pass over them:
 * the oldest (the earliest change a carrier carries) and the newest id that
 * newestPending would return (null when only backfill logs are pending), by row key.
 */
export async function pendingEnds(
  db: Queryable,
  mapping: string,
  rowKeys: readonly string[],
): Promise<Map<string, { oldest: FinishedLog; newest: number | null }>> {
  const { rows } = await db.query<FinishedLog & { row_key: string; newest: number | null }>(
    `SELECT DISTINCT ON (row_key) row_key, id, op, old_row, max(id) FILTER (WHERE ${CHANGE}) OVER (PARTITION BY row_key) AS newest
       FROM ${LOG}
      WHERE mapping = $1 AND row_key = ANY($2::text[]) AND status = 'pending' ORDER BY row_key, id`,
    [mapping, rowKeys],
  );
  return new Map(rows.map(({ row_key, newest, ...oldest }) => [row_key, { oldest, newest }]));
}

/**
 * A batch's logs that are still its own and pending, and the pending logs
 * `pulled` into the chunk from other carriers (any claim state: unclaimed, another batch's, a waiting syncLog's),
 * all locked in one statement in id order (concurrent chunks lock in one
 * order: no deadlock), and the pulled ones stamped with this carrier, so a
 * carrier that reaches them later finds them no longer its own or pending.
 * Returns them as they were before the stamp.
 */
export async function carriedAndPulled(db: Queryable, ids: readonly number[], workflowId: string, pulled: readonly number[]): Promise<LogRow[]> {
  const { rows } = await db.query<LogRow>(
    `SELECT * FROM ${LOG}
      WHERE status = 'pending' AND ((id = ANY($1::bigint[]) AND workflow_id = $2) OR id = ANY($3::bigint[]))
      ORDER BY id FOR UPDATE`,
    [ids, workflowId, pulled],
  );
  const taken = rows.filter((r) => r.workflow_id !== workflowId).map((r) => r.id);
  if (taken.length)
    await db.query(`UPDATE ${LOG} SET workflow_id = $2, dispatched_at = coalesce(dispatched_at, now()) WHERE id = ANY($1::bigint[])`, [
      taken,
      workflowId,
    ]);
  return rows;
}

/** The pending logs of these rows of a mapping, in id order (unlocked: what a chunk may pull in); none of a paused mapping. */
export async function pendingOfRows(db: Queryable, mapping: string, rowKeys: readonly string[]): Promise<LogRow[]> {
  const { rows } = await db.query<LogRow>(
    `SELECT * FROM ${LOG} WHERE mapping = $1 AND row_key = ANY($2::text[]) AND status = 'pending' AND ${notPaused('$1::text')} ORDER BY id`,
    [mapping, rowKeys],
  );
  return rows;
}

/** Of these logs, those still pending. */
export async function stillPending(db: Queryable, ids: readonly number[]): Promise<Set<number>> {
  const { rows } = await db.query<{ id: number }>(`SELECT id FROM ${LOG} WHERE id = ANY($1::bigint[]) AND status = 'pending'`, [ids]);
  return new Set(rows.map((r) => r.id));
}

/** Names the workflow that now carries each log (a log leaving its batch for its own syncLog). */
export async function setWorkflowIds(db: Queryable, logs: readonly { id: number; workflowId: string }[]): Promise<void> {
  if (!logs.length) return;
  await db.query(`UPDATE ${LOG} l SET workflow_id = w.workflow_id FROM unnest($1::bigint[], $2::text[]) AS w(id, workflow_id) WHERE l.id = w.id`, [
    logs.map((l) => l.id),
    logs.map((l) => l.workflowId),
  ]);
}
