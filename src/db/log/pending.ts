// A pending log on its way: its before-image, waits for a parent, the newest
// pending change of a row, a row's pending changes, and second passes.
import type { WaitLink } from '../../contract/index.js';
import type { Queryable } from '../pool.js';
import type { JsonRow, LogRow } from './row.js';
import { CHANGE, LOG } from './sql.js';

/**
 * A log that covers older changes takes the earliest one's before-image: if it
 * waits instead of writing, a newer change that covers it later must still
 * compare against what the target really reflects. After an INSERT there is
 * none, so, like a second pass (isSecondPass), it is carried whatever changed.
 * One statement for any number of logs (a chunk's, or a single sync's one).
 */
export async function inheritBefore(db: Queryable, logs: readonly { id: number; earliest: Pick<LogRow, 'op' | 'old_row'> }[]): Promise<void> {
  if (!logs.length) return;
  await db.query(
    `UPDATE ${LOG} l SET old_row = i.old_row FROM unnest($1::bigint[], $2::jsonb[]) AS i(id, old_row) WHERE l.id = i.id AND l.op <> 'DELETE'`,
    [logs.map((l) => l.id), logs.map((l) => (l.earliest.op === 'INSERT' ? null : JSON.stringify(l.earliest.old_row)))],
  );
}

/** Records that a log waits for a parent row; returns its attempt count. */
export async function markWaiting(db: Queryable, id: number, parent: { mapping: string; key: string }, workflowId?: string): Promise<number> {
  const { rows } = await db.query<{ attempts: number }>(
    `UPDATE ${LOG}
        SET attempts = attempts + 1, waiting_mapping = $2, waiting_key = $3, workflow_id = coalesce($4, workflow_id)
      WHERE id = $1 RETURNING attempts`,
    [id, parent.mapping, parent.key, workflowId ?? null],
  );
  return rows[0]!.attempts;
}

/** The newest pending captured change of each of a mapping's rows, by row key (rows with none are absent). */
export async function newestPending(db: Queryable, mapping: string, rowKeys: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await db.query<{ row_key: string; id: number }>(
    `SELECT row_key, max(id) AS id FROM ${LOG}
      WHERE mapping = $1 AND row_key = ANY($2::text[]) AND status = 'pending' AND ${CHANGE} GROUP BY row_key`,
    [mapping, rowKeys],
  );
  return new Map(rows.map((r) => [r.row_key, r.id]));
}

/**
 * A row read by `select` (a statement returning one `row` column) and the
 * newest pending log of that row, in one statement: one snapshot, so
 * "newest" is exactly what the row reflects.
 */
export async function readWithNewestPending(
  db: Queryable,
  select: { text: string; values: unknown[] },
  mapping: string,
  rowKey: string,
): Promise<{ row: JsonRow | null; newest: number | null }> {
  const n = select.values.length;
  const { rows } = await db.query<{ row: JsonRow | null; newest: number | null }>(
    `SELECT (${select.text}) AS row,
            (SELECT max(id) FROM ${LOG} WHERE mapping = $${n + 1} AND row_key = $${n + 2} AND status = 'pending' AND ${CHANGE}) AS newest`,
    [...select.values, mapping, rowKey],
  );
  return rows[0]!;
}

export type PendingChange = Pick<LogRow, 'id' | 'op' | 'old_row' | 'new_row'>;

/**
 * A row's pending changes, oldest first, each with the row as it was after it.
 * The log keeps only the row before a change (docs/capture.md, "What the log holds"):
 * the row after is the next change's row before, and after the newest change
 * it is the current row (`currentRow`: a SELECT of its jsonb by key = $1),
 * read in the same statement so both come from one snapshot. Logs written
 * before sql/003 still carry their own new_row, which wins. Second passes
 * (Ferry carrying a row again) are no changes and are left out.
 */
export async function pendingChanges(db: Queryable, mapping: string, rowKey: string, currentRow: string): Promise<PendingChange[]> {
  const { rows } = await db.query<PendingChange>(
    `SELECT id, op, old_row,
            CASE WHEN new_row IS NOT NULL THEN new_row
                 WHEN lead(id) OVER w IS NULL THEN (${currentRow})
                 ELSE lead(old_row) OVER w END AS new_row
       FROM ${LOG}
      WHERE row_key = $1::text AND mapping = $2 AND status = 'pending'
        AND NOT (op = 'UPDATE' AND old_row IS NULL) -- second passes change nothing (insertSecondPass)
         AND ${CHANGE} -- nor does a backfill log
     WINDOW w AS (ORDER BY id) ORDER BY id`,
    [rowKey, mapping],
  );
  return rows;
}

/** Pending logs that wait for any of these rows (a mapping's source keys) as their parent. */
export async function waitersOf(db: Queryable, mapping: string, rowKeys: readonly string[]): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT id FROM ${LOG} WHERE waiting_mapping = $1 AND waiting_key = ANY($2::text[]) AND status = 'pending' ORDER BY id`,
    [mapping, rowKeys],
  );
  return rows.map((r) => r.id);
}

// Depth-first up a chain of waits: a row's newest pending log, when it waits,
// names the next row. A row met a second time is listed once more and ends
// the walk, so a loop shows closed.
const WAIT_CHAIN = `
  WITH RECURSIVE chain (depth, mapping, key, seen) AS (
    SELECT 0, $1::text, $2::text, ARRAY[$1::text || '|' || $2::text]
    UNION ALL
    SELECT c.depth + 1, w.waiting_mapping, w.waiting_key, c.seen || (w.waiting_mapping || '|' || w.waiting_key)
      FROM chain c
      JOIN LATERAL (SELECT waiting_mapping, waiting_key FROM ${LOG}
                     WHERE mapping = c.mapping AND row_key = c.key AND status = 'pending'
                     ORDER BY id DESC LIMIT 1) w ON w.waiting_key IS NOT NULL
     WHERE c.depth < $3 AND NOT (c.mapping || '|' || c.key = ANY (c.seen[1:c.depth]))
  )
  SELECT mapping, key,
         (SELECT max(id) FROM ${LOG} l WHERE l.mapping = c.mapping AND l.row_key = c.key AND l.status = 'pending') AS "logId"
    FROM chain c ORDER BY depth`;

/**
 * The chain of waits from a row up: the row itself first, then the row its
 * newest pending log waits for, and so on, up to a row that waits for nothing
 * (or `limit` rows).
 */
export async function waitChain(db: Queryable, mapping: string, key: string, limit = 50): Promise<WaitLink[]> {
  return (await db.query<WaitLink>(WAIT_CHAIN, [mapping, key, limit])).rows;
}

/**
 * A change Ferry logs itself to carry a row again (its optional parent
 * arrived): op UPDATE with no old row, `reason` saying why. `select` reads the
 * source row (one `row` column); no row, no log. Returns the new log's id.
 */
export async function insertSecondPass(
  db: Queryable,
  change: { mapping: string; table: string; rowKey: string; reason: string },
  select: { text: string; values: unknown[] },
): Promise<number | undefined> {
  const n = select.values.length;
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO ${LOG} (mapping, table_name, op, row_key, new_row, reason)
     SELECT $${n + 1}, $${n + 2}, 'UPDATE', $${n + 3}, r.row, $${n + 4} FROM (${select.text}) r
     RETURNING id`,
    [...select.values, change.mapping, change.table, change.rowKey, change.reason],
  );
  return rows[0]?.id;
}

/** Whether a change is a second pass (see insertSecondPass): what the target reflects before it is not known. */
export function isSecondPass(change: Pick<LogRow, 'op' | 'old_row'>): boolean {
  return change.op === 'UPDATE' && change.old_row === null;
}
