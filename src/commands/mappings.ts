import type { OutputFormat } from '../cli/common-options.js';
import { emit } from '../cli/output.js';
import type { FerryConfig } from '../config.js';
import { withPool } from '../db/index.js';
import { collectMappings, formatMappings } from '../operate/mappings-report.js';

/** `ferry mappings`. Never loads Temporal's SDK. */
export function mappingsCommand(config: FerryConfig, output: OutputFormat): Promise<number> {
  return withPool(config.database.url, 1, async (pool) => {
    emit(output, await collectMappings(pool, config), formatMappings);
    return 0;
  });
}
