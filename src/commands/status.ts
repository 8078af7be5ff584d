import type { FerryConfig } from '../config.js';
import { withPool } from '../db/index.js';
import { collectStatus, formatStatus } from '../operate/status.js';

export interface StatusOptions {
  maxPendingAgeMs: number;
  limit: number;
  json: boolean;
}

/** `ferry status`: exit 1 when something is failed or too old, for cron and health checks. Never loads Temporal's SDK. */
export function statusCommand(config: FerryConfig, opts: StatusOptions): Promise<number> {
  return withPool(config.database.url, 1, async (pool) => {
    const report = await collectStatus(pool, config, opts);
    process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatStatus(report));
    return report.healthy ? 0 : 1;
  });
}
