import { CaptureDriftError, captureDrift } from '../capture/drift.js';
import type { FerryConfig } from '../config.js';
import { withPool } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { FerryProcess } from '../runtime.js';
import { defaultUiUrl } from '../temporal/client.js';
import { displayUrl, isInteractive, startStatusDisplay } from '../terminal.js';

/** On a terminal, `dev` and `start` show a banner and a live status line; piped output stays JSON lines. */
export async function showStatusIfInteractive(proc: FerryProcess, config: FerryConfig, uiUrl?: string): Promise<(() => void) | undefined> {
  if (!isInteractive()) return undefined;
  return startStatusDisplay({
    config,
    database: displayUrl(config.database.url),
    uiUrl: uiUrl ?? config.temporal.uiUrl ?? defaultUiUrl(config.temporal.address),
    metricsUrl: proc.http ? `${proc.http.url}/metrics` : undefined,
    pool: proc.pool,
    events: proc.events,
  });
}

/**
 * Runs until SIGINT/SIGTERM, then stops cleanly and exits 0. A second signal
 * while stopping exits 1 at once (an impatient operator, or a supervisor's
 * kill after its own grace period).
 */
export async function serveUntilSignal(proc: FerryProcess, logger: Logger, onStop?: () => Promise<void>): Promise<number> {
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const force = (again: string) => {
    logger.error({ signal: again }, 'second signal while stopping: exiting now; unfinished syncs resume on the next start');
    process.exit(1);
  };
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  logger.info({ signal }, 'stopping: listener first, then in-flight work');
  await proc.stop();
  await onStop?.();
  logger.info('stopped');
  return 0;
}

/**
 * Refuses to serve a config the database does not capture (a mapping added
 * without `ferry migrate` would never be captured, silently). Postgres down
 * is not drift: the outage is waited out as usual, unchecked.
 */
export async function refuseOnDrift(config: FerryConfig, logger: Logger): Promise<void> {
  let problems: string[];
  try {
    problems = (await withPool(config.database.url, 1, (pool) => captureDrift(pool, config))).problems;
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'cannot check the triggers against the config (Postgres unreachable); starting unchecked');
    return;
  }
  if (problems.length > 0) throw new CaptureDriftError(problems);
}
