// The package's public entry (`import { defineConfig, runFerry } from 'pg-ferry'`):
// what an app needs to write a config and to embed Ferry in its own process.
import { parseConfig, type FerryConfig, type FerryConfigInput } from './config.js';
import { silentLogger, type Logger } from './logger.js';
import { runFerry as run, type FerryProcess, type RunOptions } from './runtime.js';

export { ConfigError, defineConfig } from './config.js';
// The config's types: FerryConfigInput (what a file says), FerryConfig and Mapping (as loaded), Row, Transform ...
export type * from './config/schema.js';
export type { FerryEventMap, FerryEvents, SyncRef } from './events.js';
export type { FerryProcess } from './runtime.js';
/** The pino-compatible logger Ferry writes to (pino's `Logger`: `info(obj, msg)`, `child()` ...). */
export type { Logger } from './logger.js';

export interface EmbedOptions extends Partial<Omit<RunOptions, 'config' | 'logger'>> {
  /** The config, as `defineConfig` returns it (checked here, as `ferry start` checks a file). */
  config: FerryConfigInput;
  /** The host's pino-compatible logger (default: silent). */
  logger?: Logger;
}

/**
 * Runs Ferry's worker and listener inside the calling process. Installs no
 * signal handlers: the host decides when to stop. `await ferry.stop()` stops
 * the listener, lets in-flight syncs finish and closes every connection, so
 * the process can exit by itself.
 *
 * @example
 * const ferry = await runFerry({ config, logger });
 * process.once('SIGTERM', () => void ferry.stop());
 */
export async function runFerry(opts: EmbedOptions): Promise<FerryProcess> {
  const config: FerryConfig = parseConfig(opts.config);
  return run({ listen: true, work: true, ...opts, config, logger: opts.logger ?? silentLogger });
}
