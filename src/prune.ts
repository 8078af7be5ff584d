import type { Pool } from './db.js';

export interface PruneOptions {
  /** Logs captured longer ago than this are pruned, when synced or skipped. */
  olderThanMs: number;
  /** Rows looked at per statement; each statement is its own short transaction. */
  batchSize: number;
}

// One batch: walk the primary key from where the last batch stopped, delete
// the finished logs among the next batchSize rows. Keyset over the primary key
// needs no extra index and each statement touches at most batchSize rows, so
// no lock is held long; SKIP LOCKED leaves rows a worker holds right now alone.
// Pending and failed logs are never deleted: they are work or evidence.
const PRUNE_BATCH = `
  WITH batch AS (
    SELECT id, created_at FROM ferry.database_trigger_log
     WHERE id > $1 ORDER BY id LIMIT $2
  ), doomed AS (
    SELECT l.id FROM ferry.database_trigger_log l JOIN batch b ON b.id = l.id
     WHERE l.status IN ('synced', 'skipped') AND l.created_at < $3
       FOR UPDATE OF l SKIP LOCKED
  ), gone AS (
    DELETE FROM ferry.database_trigger_log l USING doomed d WHERE l.id = d.id RETURNING l.id
  )
  SELECT (SELECT count(*) FROM gone)::int AS deleted,
         (SELECT max(id) FROM batch)       AS last_id,
         (SELECT bool_or(created_at < $3) FROM batch) AS any_old`;

/** `ferry prune`: deletes synced and skipped logs older than the given age, in batches; returns how many. */
export async function pruneLogs(pool: Pool, opts: PruneOptions, onBatch?: (deleted: number) => void): Promise<number> {
  const cutoff = new Date(Date.now() - opts.olderThanMs);
  let after = 0;
  let total = 0;
  for (;;) {
    const { rows } = await pool.query<{ deleted: number; last_id: number | null; any_old: boolean | null }>(PRUNE_BATCH, [after, opts.batchSize, cutoff]);
    const { deleted, last_id, any_old } = rows[0]!;
    total += deleted;
    if (deleted) onBatch?.(deleted);
    // Ids grow with capture time: once a whole batch is younger than the
    // cutoff, nothing further on is old enough.
    if (last_id === null || !any_old) return total;
    after = last_id;
  }
}
