import type { FerryConfig } from '../config.js';
import { withPool } from '../db/index.js';
import type { Logger } from '../logger.js';
import { pruneLogs } from '../operate/prune.js';

export interface PruneOptions {
  olderThanMs: number;
  batchSize: number;
}

/** `ferry prune`: synced and skipped logs older than the age, in batches. Never loads Temporal's SDK. */
export function pruneCommand(config: FerryConfig, logger: Logger, opts: PruneOptions): Promise<number> {
  return withPool(config.database.url, 1, async (pool) => {
    const deleted = await pruneLogs(pool, opts, (n) => logger.debug({ deleted: n }, 'pruned a batch'));
    console.log(`pruned ${deleted} log(s)`);
    return 0;
  });
}
