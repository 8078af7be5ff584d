// The commands that read or act on the log table: status, prune, replay, retry.
import type { Client } from '@temporalio/client';
import type { FerryConfig } from '../config.js';
import { withPool, type Pool } from '../db/index.js';
import type { Logger } from '../logger.js';
import { pruneLogs } from '../prune.js';
import { collectStatus, formatStatus } from '../status.js';

/** `ferry status`: exit 1 when something is failed or too old, for cron and health checks. */
export function statusCommand(config: FerryConfig, opts: { maxPendingAgeMs: number; limit: number; json: boolean }): Promise<number> {
  return withPool(config.database.url, 1, async (pool) => {
    const report = await collectStatus(pool, config, opts);
    process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatStatus(report));
    return report.healthy ? 0 : 1;
  });
}

/** `ferry prune`. */
export function pruneCommand(config: FerryConfig, logger: Logger, opts: { olderThanMs: number; batchSize: number }): Promise<number> {
  return withPool(config.database.url, 1, async (pool) => {
    const deleted = await pruneLogs(pool, opts, (n) => logger.debug({ deleted: n }, 'pruned a batch'));
    console.log(`pruned ${deleted} log(s)`);
    return 0;
  });
}

/** `ferry replay`: one sweep of every pending log. */
export function replayCommand(config: FerryConfig, logger: Logger): Promise<number> {
  return withTemporal(config, logger, async (pool, client) => {
    const { Dispatcher } = await import('../dispatcher.js');
    const { FerryEvents } = await import('../events.js');
    const count = await new Dispatcher({ pool, client, config, logger, events: new FerryEvents() }).drain();
    console.log(`dispatched ${count} pending log(s)`);
    return 0;
  });
}

/** `ferry retry`: log ids, or every failed log (of one mapping). Exit 1 when an id does not exist. */
export function retryCommand(config: FerryConfig, logger: Logger, target: number[] | { failed: true; mapping?: string }): Promise<number> {
  return withTemporal(config, logger, async (pool, client) => {
    const { failedLogIds, retryLog } = await import('../retry.js');
    const ids = Array.isArray(target) ? target : await failedLogIds(pool, target.mapping);
    if (!Array.isArray(target) && ids.length === 0) console.log('no failed logs');
    let code = 0;
    for (const id of ids) {
      const outcome = await retryLog(pool, client, config, id);
      if (outcome === 'not_found') {
        console.error(`log ${id}: no such log`);
        code = 1;
      } else console.log(`log ${id}: ${outcome}`);
    }
    return code;
  });
}

async function withTemporal<T>(config: FerryConfig, logger: Logger, fn: (pool: Pool, client: Client) => Promise<T>): Promise<T> {
  // The Temporal client loads here, not with the module: `ferry status` never needs it.
  const { connectClient } = await import('../temporal.js');
  return withPool(config.database.url, 2, async (pool) => {
    const client = await connectClient(config, logger);
    try {
      return await fn(pool, client);
    } finally {
      await client.connection.close();
    }
  });
}
