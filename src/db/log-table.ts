// ferry.database_trigger_log: every statement Ferry runs on it, one function
// per state change, typed against one LogRow. Set-based where the bulk lane
// needs it (many ids, many row keys). Names (workflow ids) come in as
// parameters, never spelled in SQL.
import type { FinalStatus, WaitLink } from '../contract/index.js';
import type { Queryable } from './pool.js';
import { notPaused } from './paused-mappings.js';

const LOG = 'ferry.database_trigger_log';

export type LogStatus = 'pending' | FinalStatus;
export type LogOp = 'INSERT' | 'UPDATE' | 'DELETE';
type JsonRow = Record<string, unknown>;

/** A row of the log table (sql/001_log_table.sql). */
export interface LogRow {
  id: number;
  created_at: Date;
  txid: number;
  mapping: string;
  /** Schema-qualified source table. */
  table_name: string;
  op: LogOp;
  /** The source row's key, as text. */
  row_key: string;
  old_row: JsonRow | null;
  new_row: JsonRow | null;
  status: LogStatus;
  attempts: number;
  error: string | null;
  synced_at: Date | null;
  /** The workflow that carried (or carries) the log. */
  workflow_id: string | null;
  dispatched_at: Date | null;
  /** The dispatcher (owner id, see src/dispatch/claims.ts) that claimed it last. */
  claimed_by: number | null;
  superseded_by: number | null;
  waiting_mapping: string | null;
  waiting_key: string | null;
  /** 'change' (a trigger captured it) or 'backfill' (written by `ferry backfill` for a row that exists; sql/005). */
  kind: 'change' | 'backfill';
  /** Why Ferry logged this change itself (a second pass), else null (sql/004). */
  reason: string | null;
}

/** The log row, or undefined. `lock`: FOR UPDATE, so two runs for one log cannot interleave. */
export async function findLog(db: Queryable, id: number, opts: { lock?: boolean } = {}): Promise<LogRow | undefined> {
  const { rows } = await db.query<LogRow>(`SELECT * FROM ${LOG} WHERE id = $1${opts.lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0];
}

// ---- dispatch ---------------------------------------------------------------

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

/** Of these mappings, those with logs still unclaimed or in a batch (`batchPattern`, a LIKE pattern of batch ids). */
export async function busyMappings(db: Queryable, mappings: readonly string[], batchPattern: string): Promise<Set<string>> {
  if (!mappings.length) return new Set();
  const { rows } = await db.query<{ mapping: string }>(
    `SELECT m AS mapping FROM unnest($1::text[]) AS m
      WHERE EXISTS (SELECT 1 FROM ${LOG} WHERE mapping = m AND status = 'pending' AND (dispatched_at IS NULL OR workflow_id LIKE $2))`,
    [mappings, batchPattern],
  );
  return new Set(rows.map((r) => r.mapping));
}

/** Returns claimed logs whose workflows could not be started to the queue. */
export async function unclaim(db: Queryable, ids: readonly number[]): Promise<void> {
  await db.query(`UPDATE ${LOG} SET dispatched_at = NULL, claimed_by = NULL WHERE id = ANY($1::bigint[]) AND status = 'pending'`, [ids]);
}

// ---- carrying ---------------------------------------------------------------

/** Which pending logs a state change applies to. */
export type LogSet =
  | { ids: readonly number[] }
  /** A row's pending logs older than `below`: the changes a newer one carries. */
  | { mapping: string; rowKey: string; below: number };

export interface Finish {
  status: FinalStatus;
  error?: string | null;
  /** For skipped: the log that carried a newer state, or won a conflict. */
  supersededBy?: number | null;
  /** The workflow that carried it; unchanged when undefined. */
  workflowId?: string;
  /** Whether this counts as an attempt (default yes; a parent that never came counted its own). */
  countAttempt?: boolean;
}

export type FinishedLog = Pick<LogRow, 'id' | 'op' | 'old_row'>;

/**
 * Gives pending logs their final status and clears the waiting columns:
 * marking, superseding, conflict loss and failure all go through here.
 * Returns the logs it changed, in id order.
 */
export async function finish(db: Queryable, where: LogSet, outcome: Finish): Promise<FinishedLog[]> {
  const values: unknown[] = [
    outcome.status,
    outcome.error ?? null,
    outcome.supersededBy ?? null,
    outcome.countAttempt === false ? 0 : 1,
    outcome.workflowId ?? null,
  ];
  let match: string;
  if ('ids' in where) {
    values.push(where.ids);
    match = `id = ANY($6::bigint[])`;
  } else {
    values.push(where.mapping, where.rowKey, where.below);
    match = `mapping = $6 AND row_key = $7 AND id < $8`;
  }
  const { rows } = await db.query<FinishedLog>(
    `UPDATE ${LOG}
        SET status = $1, error = $2, superseded_by = $3, attempts = attempts + $4::int, synced_at = now(),
            workflow_id = coalesce($5, workflow_id), waiting_mapping = NULL, waiting_key = NULL
      WHERE ${match} AND status = 'pending'
      RETURNING id, op, old_row`,
    values,
  );
  return rows.sort((a, b) => a.id - b.id);
}

/** finish() for many logs at once, each with its own outcome (a batch's chunk writes back in one statement). */
export async function finishEach(
  db: Queryable,
  logs: readonly {
    id: number;
    status: FinalStatus;
    error: string | null;
    supersededBy: number | null;
    countAttempt: boolean;
    workflowId: string | null;
  }[],
): Promise<void> {
  if (!logs.length) return;
  await db.query(
    `UPDATE ${LOG} l
        SET status = f.status, error = f.error, superseded_by = f.superseded_by, attempts = l.attempts + f.attempt,
            synced_at = now(), workflow_id = coalesce(f.workflow_id, l.workflow_id), waiting_mapping = NULL, waiting_key = NULL
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::int[], $6::text[])
            AS f(id, status, error, superseded_by, attempt, workflow_id)
      WHERE l.id = f.id AND l.status = 'pending'`,
    [
      logs.map((l) => l.id),
      logs.map((l) => l.status),
      logs.map((l) => l.error),
      logs.map((l) => l.supersededBy),
      logs.map((l) => (l.countAttempt ? 1 : 0)),
      logs.map((l) => l.workflowId),
    ],
  );
}

/** finish() of { mapping, rowKey, below } for many rows: each row's older pending logs, skipped, superseded by its carrier. */
export async function supersedeBelow(
  db: Queryable,
  mapping: string,
  rows: readonly { rowKey: string; below: number }[],
  workflowId?: string,
): Promise<void> {
  if (!rows.length) return;
  await db.query(
    `UPDATE ${LOG} l
        SET status = 'skipped', error = NULL, superseded_by = c.below, attempts = l.attempts + 1, synced_at = now(),
            workflow_id = coalesce($4, l.workflow_id), waiting_mapping = NULL, waiting_key = NULL
       FROM unnest($2::text[], $3::bigint[]) AS c(row_key, below)
      WHERE l.mapping = $1 AND l.row_key = c.row_key AND l.status = 'pending' AND l.id < c.below`,
    [mapping, rows.map((r) => r.rowKey), rows.map((r) => r.below), workflowId ?? null],
  );
}

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

/** A batch's logs that are still its own and pending, in id order, unlocked (carriedAndPulled locks them). */
export async function carriedBy(db: Queryable, ids: readonly number[], workflowId: string): Promise<LogRow[]> {
  const { rows } = await db.query<LogRow>(
    `SELECT * FROM ${LOG} WHERE id = ANY($1::bigint[]) AND status = 'pending' AND workflow_id = $2 ORDER BY id`,
    [ids, workflowId],
  );
  return rows;
}

/**
 * carriedBy, and the pending logs `pulled` into the chunk from other
 * carriers (any claim state: unclaimed, another batch's, a waiting syncLog's),
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

// Only captured changes supersede, rival or stand for a row's next state: a
// backfill log never makes a live change step aside (live changes win).
const CHANGE = `kind = 'change'`;

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

// ---- retry ------------------------------------------------------------------

/** The failed logs (of one mapping), for `retry --failed`. */
export async function failedIds(db: Queryable, mapping?: string): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT id FROM ${LOG} WHERE status = 'failed' AND ($1::text IS NULL OR mapping = $1) ORDER BY id`,
    [mapping ?? null],
  );
  return rows.map((r) => r.id);
}

/**
 * Failed logs become pending again with a clean slate, unclaimed: the caller
 * starts their workflows, and a dispatcher that gets there first is no harm
 * (one workflow id, one run). Returns the ids it reset.
 */
export async function resetFailed(db: Queryable, ids: readonly number[]): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `UPDATE ${LOG} SET status = 'pending', error = NULL, attempts = 0, synced_at = NULL, dispatched_at = NULL, claimed_by = NULL
      WHERE id = ANY($1::bigint[]) AND status = 'failed' RETURNING id`,
    [ids],
  );
  return rows.map((r) => r.id);
}

// ---- operating --------------------------------------------------------------

export interface MappingCounts {
  mapping: string;
  pending: number;
  waiting: number;
  synced: number;
  skipped: number;
  failed: number;
  /** Seconds since the oldest pending log was captured; null when none is pending. */
  oldest_pending: number | null;
  synced_last_minute: number;
}

/** One pass over the table for all counts: status is a command, not a hot path. */
export async function countsByMapping(db: Queryable): Promise<MappingCounts[]> {
  const { rows } = await db.query<MappingCounts>(
    `SELECT mapping,
            count(*) FILTER (WHERE status = 'pending')::int                               AS pending,
            count(*) FILTER (WHERE status = 'pending' AND waiting_key IS NOT NULL)::int   AS waiting,
            count(*) FILTER (WHERE status = 'synced')::int                                AS synced,
            count(*) FILTER (WHERE status = 'skipped')::int                               AS skipped,
            count(*) FILTER (WHERE status = 'failed')::int                                AS failed,
            extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'pending'))::float8 AS oldest_pending,
            count(*) FILTER (WHERE status = 'synced' AND synced_at > now() - interval '1 minute')::int AS synced_last_minute
       FROM ${LOG}
      GROUP BY mapping`,
  );
  return rows;
}

/** Pending logs per mapping (the partial index of pending logs answers it). */
export async function pendingByMapping(db: Queryable): Promise<{ mapping: string; n: number }[]> {
  const { rows } = await db.query<{ mapping: string; n: number }>(
    `SELECT mapping, count(*)::int AS n FROM ${LOG} WHERE status = 'pending' GROUP BY mapping`,
  );
  return rows;
}

/** Pending and waiting logs in all (the pending index answers it): the terminal's live line. */
export async function pendingTotals(db: Queryable): Promise<{ pending: number; waiting: number }> {
  const { rows } = await db.query<{ pending: number; waiting: number }>(
    `SELECT count(*)::int AS pending, count(*) FILTER (WHERE waiting_key IS NOT NULL)::int AS waiting
       FROM ${LOG} WHERE status = 'pending'`,
  );
  return rows[0]!;
}

/** Failed logs in all: one scan, so callers count once and follow events after. */
export async function failedTotal(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${LOG} WHERE status = 'failed'`);
  return rows[0]!.n;
}

/** Seconds since the oldest pending log was captured; 0 when none is pending (what `status --max-pending-age` alerts on). */
export async function oldestPendingSeconds(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ s: number | null }>(
    `SELECT extract(epoch FROM now() - min(created_at))::float8 AS s FROM ${LOG} WHERE status = 'pending'`,
  );
  return Math.max(0, rows[0]!.s ?? 0);
}

export type ListedLog = LogRow & { age: number };

/** The logs that need a person: waiting for a parent, or failed; oldest first, with their age in seconds. */
export async function listLogs(db: Queryable, which: 'waiting' | 'failed', limit: number): Promise<ListedLog[]> {
  const where = which === 'waiting' ? `status = 'pending' AND waiting_key IS NOT NULL` : `status = 'failed'`;
  const { rows } = await db.query<ListedLog>(
    `SELECT *, extract(epoch FROM now() - created_at)::float8 AS age FROM ${LOG} WHERE ${where} ORDER BY id LIMIT $1`,
    [limit],
  );
  return rows;
}

// One prune batch: walk the primary key from where the last batch stopped, delete
// the finished logs among the next `limit` rows. Keyset over the primary key
// needs no extra index and each statement touches at most `limit` rows, so
// no lock is held long; SKIP LOCKED leaves rows a worker holds right now alone.
// Pending and failed logs are never deleted: they are work or evidence.
const PRUNE_BATCH = `
  WITH batch AS (
    SELECT id, created_at FROM ${LOG}
     WHERE id > $1 ORDER BY id LIMIT $2
  ), doomed AS (
    SELECT l.id FROM ${LOG} l JOIN batch b ON b.id = l.id
     WHERE l.status IN ('synced', 'skipped') AND l.created_at < $3
       FOR UPDATE OF l SKIP LOCKED
  ), gone AS (
    DELETE FROM ${LOG} l USING doomed d WHERE l.id = d.id RETURNING l.id
  )
  SELECT (SELECT count(*) FROM gone)::int AS deleted,
         (SELECT max(id) FROM batch)       AS last_id,
         (SELECT bool_or(created_at < $3) FROM batch) AS any_old`;

/** What pruneBatch would delete, all batches together: `prune --dry-run`. */
export async function countPrunable(db: Queryable, cutoff: Date): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${LOG} WHERE status IN ('synced', 'skipped') AND created_at < $1`, [
    cutoff,
  ]);
  return rows[0]!.n;
}

/** Deletes synced and skipped logs captured before `cutoff` among the `limit` ids after `after`. */
export async function pruneBatch(
  db: Queryable,
  after: number,
  limit: number,
  cutoff: Date,
): Promise<{ deleted: number; last_id: number | null; any_old: boolean | null }> {
  const { rows } = await db.query<{ deleted: number; last_id: number | null; any_old: boolean | null }>(PRUNE_BATCH, [after, limit, cutoff]);
  return rows[0]!;
}
