import type { OutputFormat } from '../cli/common-options.js';
import { emit } from '../cli/output.js';
import { ConfigError, type FerryConfig } from '../config.js';
import { logTable, withPool } from '../db/index.js';
import type { Logger } from '../logger.js';
import { withTemporal } from './with-temporal.js';

/** Log ids, or every failed log (of one mapping). */
export type RetryTarget = number[] | { failed: true; mapping?: string };

export interface RetryOptions {
  /** With --failed: list the logs, change nothing (and never connect to Temporal). */
  dryRun: boolean;
  output: OutputFormat;
}

type Outcome = { logId: number; outcome: string };
const outcomeText = (d: { dryRun: boolean; logs: Outcome[] }) =>
  d.logs.length === 0 ? 'no failed logs' : d.logs.map((l) => `log ${l.logId}: ${l.outcome}`).join('\n');

/** `ferry retry`: log ids, or every failed log (of one mapping). Exit 1 when an id does not exist. */
export async function retryCommand(config: FerryConfig, logger: Logger, target: RetryTarget, opts: RetryOptions): Promise<number> {
  if (opts.dryRun && !Array.isArray(target)) {
    const ids = await withPool(config.database.url, 1, (pool) => logTable.failedIds(pool, target.mapping));
    emit(opts.output, { dryRun: true, logs: ids.map((logId) => ({ logId, outcome: 'would restart' })) }, outcomeText);
    return 0;
  }
  return withTemporal(config, logger, async (pool, client) => {
    const { failedLogIds, retryLog } = await import('../operate/retry.js');
    const ids = Array.isArray(target) ? target : await failedLogIds(pool, target.mapping);
    const logs: Outcome[] = [];
    for (const logId of ids) logs.push({ logId, outcome: await retryLog(pool, client, config, logId) });
    const missing = logs.filter((l) => l.outcome === 'not_found');
    if (opts.output === 'text') for (const l of missing) console.error(`log ${l.logId}: no such log`);
    emit(opts.output, { dryRun: false, logs: opts.output === 'json' ? logs : logs.filter((l) => l.outcome !== 'not_found') }, (d) =>
      Array.isArray(target) ? d.logs.map((l) => `log ${l.logId}: ${l.outcome}`).join('\n') : outcomeText(d),
    );
    return missing.length ? 1 : 0;
  });
}

/** `ferry retry --downstream-rejected [--mapping NAME]`: rejected target rows go back to pending, for the far side to send again. */
export function retryDownstreamCommand(config: FerryConfig, logger: Logger, mapping: string | undefined, output: OutputFormat): Promise<number> {
  return withPool(config.database.url, 1, async (pool) => {
    const { downstreamMappings, resendRejected } = await import('../operate/downstream.js');
    const mappings = downstreamMappings(config, mapping);
    if (!mappings.length)
      throw new ConfigError(
        mapping ? `mapping "${mapping}" has no target.downstream` : 'no mapping has target.downstream: nothing can be rejected downstream',
      );
    const resent: { mapping: string; rows: number }[] = [];
    for (const m of mappings) resent.push({ mapping: m.name, rows: await resendRejected(pool, m) });
    logger.debug({ resent }, 'downstream rejections resent');
    emit(output, { resent }, (d) => d.resent.map((r) => `${r.mapping}: ${r.rows} rejected row(s) pending downstream again`).join('\n'));
    return 0;
  });
}
