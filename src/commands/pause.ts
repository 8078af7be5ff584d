import type { OutputFormat } from '../cli/common-options.js';
import { emit } from '../cli/output.js';
import { UsageError } from '../cli/usage-error.js';
import { mappingByName, type FerryConfig } from '../config.js';
import { channelFor } from '../contract/index.js';
import { withPool } from '../db/index.js';
import { pause, resume } from '../db/paused-mappings.js';
import type { Logger } from '../logger.js';
import { parseTable } from '../table-name.js';

export interface PauseOptions {
  names: string[];
  /** true: pause; false: resume. */
  paused: boolean;
  output: OutputFormat;
}

/**
 * `ferry pause` / `ferry resume`. Resuming also wakes the listeners of the
 * mappings' channels, so what waited is claimed now rather than at the next sweep.
 */
export function pauseCommand(config: FerryConfig, logger: Logger, opts: PauseOptions): Promise<number> {
  const unknown = opts.names.filter((n) => !mappingByName(config, n));
  if (unknown.length)
    throw new UsageError(
      `no mapping is named ${unknown.map((n) => `"${n}"`).join(', ')} (mappings: ${config.mappings.map((m) => m.name).join(', ')})`,
    );
  return withPool(config.database.url, 1, async (pool) => {
    let changed: string[];
    try {
      changed = opts.paused ? await pause(pool, opts.names) : await resume(pool, opts.names);
    } catch (err) {
      if ((err as { code?: string }).code === '42P01') throw new UsageError('ferry.paused_mappings does not exist: run `ferry migrate` first');
      throw err;
    }
    if (!opts.paused && changed.length) {
      const channels = new Set(changed.map((n) => channelFor(parseTable(mappingByName(config, n)!.source.table)!.schema)));
      for (const channel of channels) await pool.query('SELECT pg_notify($1, $2)', [channel, '']);
    }
    const verb = opts.paused ? 'paused' : 'resumed';
    logger.debug({ [verb]: changed }, `mappings ${verb}`);
    const unchanged = opts.names.filter((n) => !changed.includes(n));
    emit(opts.output, { [verb]: changed, unchanged }, () =>
      [...changed.map((n) => `${n}: ${verb}`), ...unchanged.map((n) => `${n}: already ${opts.paused ? 'paused' : 'running (not paused)'}`)].join(
        '\n',
      ),
    );
    return 0;
  });
}
