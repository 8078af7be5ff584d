import type { FerryConfig } from '../config.js';
import { withPool, type Pool } from '../db/index.js';
import { collectStatus, formatStatus } from '../operate/status.js';

export interface StatusOptions {
  maxPendingAgeMs: number;
  limit: number;
  json: boolean;
  /** `--watch`: redraw every this many ms until SIGINT or SIGTERM. */
  watchMs?: number;
}

/** `ferry status`: exit 1 when something is failed or too old, for cron and health checks. Never loads Temporal's SDK. */
export function statusCommand(config: FerryConfig, opts: StatusOptions): Promise<number> {
  return withPool(config.database.url, 1, async (pool) => {
    if (opts.watchMs !== undefined) return watch(pool, config, opts, opts.watchMs);
    const report = await collectStatus(pool, config, opts);
    process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatStatus(report));
    return report.healthy ? 0 : 1;
  });
}

/**
 * The report redrawn in place on a terminal (cursor home, clear below); piped,
 * each report follows the last, with no escape codes. Ends on Ctrl-C with the
 * exit code of the last report.
 */
async function watch(pool: Pool, config: FerryConfig, opts: StatusOptions, everyMs: number): Promise<number> {
  const tty = process.stdout.isTTY === true;
  let stopped = false;
  let wake = () => {};
  const stop = () => {
    stopped = true;
    wake();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let healthy = true;
  try {
    while (!stopped) {
      const report = await collectStatus(pool, config, opts);
      healthy = report.healthy;
      const stamp = `ferry status, every ${everyMs / 1000}s (Ctrl-C stops)   ${new Date().toISOString().slice(11, 19)} UTC\n\n`;
      process.stdout.write(tty ? `\x1b[H\x1b[2J${stamp}${formatStatus(report)}` : `${stamp}${formatStatus(report)}\n`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, everyMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return healthy ? 0 : 1;
}
