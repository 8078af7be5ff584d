// What an operator reads of the log (status, metrics, the terminal line) and prune.
import type { Queryable } from '../pool.js';
import type { LogRow } from './row.js';
import { LOG } from './sql.js';

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

/**
 * VACUUM (ANALYZE) of the log, after a prune: the deleted rows' dead entries
 * leave the primary key and the hot partial indexes now, the space is reused
 * and the planner sees the table as it is, instead of an autovacuum of
 * millions of dead rows starting later, under the claims and carries. A role
 * that does not own the log gets a warning from Postgres and no vacuum (then
 * autovacuum does it, sql/011's settings).
 */
export async function vacuumLog(db: Queryable): Promise<void> {
  await db.query(`VACUUM (ANALYZE) ${LOG}`);
}

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
