import type { OutputFormat } from '../cli/common-options.js';
import { emit } from '../cli/output.js';
import type { FerryConfig } from '../config.js';
import { withPool } from '../db/index.js';
import type { Logger } from '../logger.js';
import { countPrunable, pruneLogs } from '../operate/prune.js';

export interface PruneOptions {
  olderThanMs: number;
  batchSize: number;
  /** Count what would go, delete nothing. */
  dryRun: boolean;
  output: OutputFormat;
}

/** `ferry prune`: synced and skipped logs older than the age, in batches. Never loads Temporal's SDK. */
export function pruneCommand(config: FerryConfig, logger: Logger, opts: PruneOptions): Promise<number> {
  return withPool(config.database.url, 1, async (pool) => {
    if (opts.dryRun) {
      const wouldDelete = await countPrunable(pool, opts.olderThanMs);
      emit(opts.output, { dryRun: true, wouldDelete }, (d) => `would prune ${d.wouldDelete} log(s) (dry run: nothing deleted)`);
      return 0;
    }
    const deleted = await pruneLogs(pool, opts, (n) => logger.debug({ deleted: n }, 'pruned a batch'));
    emit(opts.output, { dryRun: false, deleted }, (d) => `pruned ${d.deleted} log(s)`);
    return 0;
  });
}
