import { ConfigError, type FerryConfig } from '../config.js';
import { withPool } from '../db/index.js';
import type { Logger } from '../logger.js';
import { withTemporal } from './with-temporal.js';

/** Log ids, or every failed log (of one mapping). */
export type RetryTarget = number[] | { failed: true; mapping?: string };

/** `ferry retry`: log ids, or every failed log (of one mapping). Exit 1 when an id does not exist. */
export function retryCommand(config: FerryConfig, logger: Logger, target: RetryTarget): Promise<number> {
  return withTemporal(config, logger, async (pool, client) => {
    const { failedLogIds, retryLog } = await import('../operate/retry.js');
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

/** `ferry retry --downstream-rejected [--mapping NAME]`: rejected target rows go back to pending, for the far side to send again. */
export function retryDownstreamCommand(config: FerryConfig, mapping?: string): Promise<number> {
  return withPool(config.database.url, 1, async (pool) => {
    const { downstreamMappings, resendRejected } = await import('../operate/downstream.js');
    const mappings = downstreamMappings(config, mapping);
    if (!mappings.length)
      throw new ConfigError(
        mapping ? `mapping "${mapping}" has no target.downstream` : 'no mapping has target.downstream: nothing can be rejected downstream',
      );
    for (const m of mappings) console.log(`${m.name}: ${await resendRejected(pool, m)} rejected row(s) pending downstream again`);
    return 0;
  });
}
