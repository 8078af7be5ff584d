// The dispatcher's statements: claims (single logs, a backlog's batches),
// orphaned claims given back, which mappings are busy and how many of their
// logs wait in batches.
import type { Queryable } from '../pool.js';
import { notPaused } from '../paused-mappings.js';
import type { LogRow } from './row.js';
import { LOG } from './sql.js';

export type ClaimedLog = Pick<LogRow, 'id' | 'mapping' | 'table_name' | 'op' | 'row_key'>;

/** Advisory lock class of claim owners: each live dispatcher holds (CLAIM_LOCK_CLASS, its owner id). */
export const CLAIM_LOCK_CLASS = 1178948185; // 'FERY'

// Owner ids whose dispatcher is alive: it holds its session lock in this database.
const LIVE_OWNERS = `
  SELECT objid::bigint FROM pg_locks
   WHERE locktype = 'advisory' AND classid = ${CLAIM_LOCK_CLASS}::oid AND objsubid = 2 AND granted
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

export interface ClaimOptions {
  limit: number;
  /** The claiming dispatcher's owner id (it holds its lock). */
  owner: number;
  /** A mapping with more logs than this queued has a backlog: its logs go in batches, not here. */
  backlogAbove: number;
}

// Mappings with undispatched logs: a skip scan of the undispatched index
// (sql/011), one probe per mapping however many logs wait.
const QUEUED_MAPPINGS = `
  WITH RECURSIVE queued (mapping) AS (
    SELECT min(mapping) FROM ${LOG} WHERE status = 'pending' AND dispatched_at IS NULL
    UNION ALL
    SELECT (SELECT min(mapping) FROM ${LOG} WHERE status = 'pending' AND dispatched_at IS NULL AND mapping > q.mapping)
      FROM queued q WHERE q.mapping IS NOT NULL
  )
  SELECT mapping FROM queued q WHERE mapping IS NOT NULL AND ${notPaused('q.mapping')}`;

/**
 * Claims up to `limit` new (undispatched) pending logs of mappings without a
 * backlog, one workflow each, stamping dispatched_at and the owner; and says
 * which mappings have a backlog: more than `backlogAbove` logs queued
 * (claimable, or dispatched and not carried yet; a log that waits for a
 * parent is not queued), some of them claimable. One statement, so the
 * backlog test and the claim see one snapshot: a burst that commits during a
 * round is never taken one log at a time. SKIP LOCKED lets several
 * dispatchers share the work. Every part stops early (the count at the
 * threshold, each mapping's walk at `limit`), so a round costs the same at a
 * backlog of a hundred logs or of millions.
 */
export async function claim(db: Queryable, opts: ClaimOptions): Promise<{ logs: ClaimedLog[]; backlog: string[] }> {
  const { rows } = await db.query<{ logs: ClaimedLog[]; backlog: string[] }>(
    `WITH queued AS (${QUEUED_MAPPINGS}
     ), sized AS (
       -- ORDER BY row_key is the pending index's own order: it keeps the planner on that
       -- index (a table scan, expected to meet $3 + 1 rows soon, reads all of the log
       -- for a mapping with few).
       SELECT q.mapping, (SELECT count(*) FROM (SELECT FROM ${LOG} WHERE mapping = q.mapping AND status = 'pending'
                                                   AND waiting_key IS NULL ORDER BY row_key LIMIT $3 + 1) n) > $3 AS backlog
         FROM queued q
     ), picked AS (
       -- A mapping without a backlog has at most backlogAbove logs queued: locking a
       -- walk of each and keeping the oldest $1 of all leaves few rows locked in vain.
       SELECT p.id FROM sized s CROSS JOIN LATERAL (
                SELECT id FROM ${LOG} WHERE mapping = s.mapping AND status = 'pending' AND dispatched_at IS NULL
                 ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) p
        WHERE NOT s.backlog ORDER BY p.id LIMIT $1
     ), claimed AS (
       -- By primary key, as an array: a join with the pick may be planned as a scan of the log.
       UPDATE ${LOG} l SET dispatched_at = now(), claimed_by = $2
        WHERE l.id = ANY ((SELECT array_agg(id) FROM picked)::bigint[])
        RETURNING l.id, l.mapping, l.table_name, l.op, l.row_key
     )
     SELECT (SELECT coalesce(json_agg(c ORDER BY c.id), '[]') FROM claimed c) AS logs,
            (SELECT coalesce(array_agg(mapping ORDER BY mapping), '{}') FROM sized WHERE backlog) AS backlog`,
    [opts.limit, opts.owner, opts.backlogAbove],
  );
  return rows[0]!;
}

/**
 * The sweep: gives back to the queue the claims no live dispatcher stands
 * behind, so the next round dispatches them like new logs (a backlog in
 * batches). A claim is orphaned when its owner is gone (no lock: a killed
 * process, whose workflows may never have started) or was never recorded;
 * and, as the last safety net, any claim older than `staleAfterMs` (a
 * terminated workflow). Backfill logs are claimed by their backfill workflow,
 * which Temporal keeps alive, so only the safety net applies to them.
 * Re-dispatching a log whose workflow runs is a no-op or a second carrier
 * that finds it no longer pending, so taking a claim over is always safe.
 * It reads the claimed index (sql/014): the logs claimed and not carried yet,
 * a few batches' worth, however long the backlog.
 */
export async function releaseOrphans(db: Queryable, staleAfterMs: number): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE ${LOG} SET dispatched_at = NULL, claimed_by = NULL
      WHERE status = 'pending' AND dispatched_at IS NOT NULL
        AND ((kind = 'change' AND (claimed_by IS NULL OR claimed_by NOT IN (${LIVE_OWNERS})))
             OR dispatched_at < now() - make_interval(secs => $1::float8 / 1000))`,
    [staleAfterMs],
  );
  return rowCount ?? 0;
}

/**
 * Claims up to `limit` logs of these mappings (parents' mappings first, in
 * the order given, then id order) for one batch, named by `name(first, last)`.
 * Run it in a transaction: the pick locks the rows until they are stamped.
 */
export async function claimBatch(
  db: Queryable,
  opts: { limit: number; owner: number },
  mappings: readonly string[],
  name: (first: number, last: number) => string,
): Promise<{ logIds: number[]; workflowId: string } | undefined> {
  // One mapping at a time, each a walk of its undispatched logs in key order
  // (sql/011): never a sort of the whole backlog.
  const logIds: number[] = [];
  for (const mapping of mappings) {
    if (logIds.length >= opts.limit) break;
    const { rows } = await db.query<{ id: number }>(
      `SELECT id FROM ${LOG} WHERE mapping = $2 AND status = 'pending' AND dispatched_at IS NULL AND ${notPaused('$2::text')}
        ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [opts.limit - logIds.length, mapping],
    );
    logIds.push(...rows.map((r) => r.id));
  }
  if (!logIds.length) return undefined;
  logIds.sort((a, b) => a - b);
  const workflowId = name(logIds[0]!, logIds[logIds.length - 1]!);
  await db.query(`UPDATE ${LOG} SET dispatched_at = now(), claimed_by = $3, workflow_id = $2 WHERE id = ANY($1::bigint[])`, [
    logIds,
    workflowId,
    opts.owner,
  ]);
  return { logIds, workflowId };
}

/**
 * Of these mappings, those with logs still unclaimed or in a batch
 * (`batchPattern`, a LIKE pattern of batch ids). Two probes per mapping, one
 * on the undispatched index and one on the claimed index (sql/014): a test
 * of either condition at once would be planned as a scan of the whole log,
 * and so is an EXISTS that expects many rows (min(id) walks the index).
 */
export async function busyMappings(db: Queryable, mappings: readonly string[], batchPattern: string): Promise<Set<string>> {
  if (!mappings.length) return new Set();
  const { rows } = await db.query<{ mapping: string }>(
    `SELECT m AS mapping FROM unnest($1::text[]) AS m
      WHERE (SELECT min(id) FROM ${LOG} WHERE mapping = m AND status = 'pending' AND dispatched_at IS NULL) IS NOT NULL
         OR EXISTS (SELECT FROM ${LOG} WHERE mapping = m AND status = 'pending' AND dispatched_at IS NOT NULL AND workflow_id LIKE $2)`,
    [mappings, batchPattern],
  );
  return new Set(rows.map((r) => r.mapping));
}

/**
 * Logs of these mappings in batches (`batchPattern`) not carried yet, counted
 * up to `upTo`: a walk of the claimed index (sql/014) that stops there.
 */
export async function inBatches(db: Queryable, mappings: readonly string[], batchPattern: string, upTo: number): Promise<number> {
  if (!mappings.length) return 0;
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT FROM ${LOG} WHERE mapping = ANY ($1::text[]) AND status = 'pending'
                                        AND dispatched_at IS NOT NULL AND workflow_id LIKE $2 LIMIT $3) x`,
    [mappings, batchPattern, upTo],
  );
  return rows[0]!.n;
}

/** Returns claimed logs whose workflows could not be started to the queue. */
export async function unclaim(db: Queryable, ids: readonly number[]): Promise<void> {
  await db.query(`UPDATE ${LOG} SET dispatched_at = NULL, claimed_by = NULL WHERE id = ANY($1::bigint[]) AND status = 'pending'`, [ids]);
}
