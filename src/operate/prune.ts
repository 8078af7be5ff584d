import { logTable, type Pool } from '../db/index.js';

export interface PruneOptions {
  /** Logs captured longer ago than this are pruned, when synced or skipped. */
  olderThanMs: number;
  /** Rows looked at per statement; each statement is its own short transaction. */
  batchSize: number;
}

/** `ferry prune --dry-run`: how many logs pruneLogs would delete now. */
export function countPrunable(pool: Pool, olderThanMs: number): Promise<number> {
  return logTable.countPrunable(pool, new Date(Date.now() - olderThanMs));
}

/**
 * `ferry prune`: deletes synced and skipped logs older than the given age, in
 * batches, then vacuums the log when it deleted any; returns how many.
 */
export async function pruneLogs(pool: Pool, opts: PruneOptions, onBatch?: (deleted: number) => void): Promise<number> {
  const cutoff = new Date(Date.now() - opts.olderThanMs);
  let after = 0;
  let total = 0;
  for (;;) {
    const { deleted, last_id, any_old } = await logTable.pruneBatch(pool, after, opts.batchSize, cutoff);
    total += deleted;
    if (deleted) onBatch?.(deleted);
    // Ids grow with capture time: once a whole batch is younger than the
    // cutoff, nothing further on is old enough.
    if (last_id === null || !any_old) break;
    after = last_id;
  }
  if (total > 0) await logTable.vacuumLog(pool);
  return total;
}
