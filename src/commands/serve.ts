import type { Logger } from '../logger.js';
import type { FerryProcess } from '../runtime.js';

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
