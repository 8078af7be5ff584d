import { whereProblemOn } from '../where.js';
import type { Client } from '@temporalio/client';
import { cancelBackfill, startBackfill, waitForBackfill } from '../bulk/backfill-run.js';
import { parentsFirst } from '../bulk/order.js';
import { formatSeconds } from '../bulk/progress-bar.js';
import { mappingByName, type FerryConfig, type Mapping } from '../config.js';
import { backfillWorkflowId } from '../contract/index.js';
import { withPool } from '../db/index.js';
import type { Logger } from '../logger.js';
import { quoteTable } from '../statements.js';
import { connectClient, webUiLink } from '../temporal/client.js';

export interface BackfillOptions {
  /** Mapping names, or every mapping (parents first). */
  mappings: string[] | 'all';
  where?: string;
  batch: number;
  detach: boolean;
  cancel: boolean;
}

/** A usage problem the command found itself (unknown mapping, bad --where): exit 2. */
export class BulkUsageError extends Error {
  override name = 'BulkUsageError';
}

/** The mappings a bulk command names, parents first for --all; throws BulkUsageError for an unknown name. */
export function selectMappings(config: FerryConfig, names: string[] | 'all'): Mapping[] {
  if (names === 'all') return parentsFirst(config.mappings);
  return names.map((name) => {
    const mapping = mappingByName(config, name);
    if (!mapping) throw new BulkUsageError(`no mapping is named "${name}" (mappings: ${config.mappings.map((m) => m.name).join(', ')})`);
    return mapping;
  });
}

/**
 * `ferry backfill`: starts (or attaches to) one backfill workflow per
 * mapping, one after the other, and waits for each with a progress bar.
 * Exit 0 when all finished, 1 when one failed or was cancelled.
 */
export async function backfillCommand(config: FerryConfig, logger: Logger, opts: BackfillOptions): Promise<number> {
  const mappings = selectMappings(config, opts.mappings);
  if (opts.where) await checkWhere(config, mappings, opts.where);
  const client = await connectClient(config, logger);
  try {
    return opts.cancel ? await cancelAll(client, config, mappings) : await runAll(client, config, mappings, opts);
  } finally {
    await client.connection.close();
  }
}

async function cancelAll(client: Client, config: FerryConfig, mappings: Mapping[]): Promise<number> {
  let code = 0;
  for (const m of mappings) {
    if (await cancelBackfill(client, config, m.name)) console.log(`${m.name}: backfill cancelled (${backfillWorkflowId(config.instance, m.name)})`);
    else {
      console.log(`${m.name}: no backfill running`);
      code = 1;
    }
  }
  return code;
}

async function runAll(client: Client, config: FerryConfig, mappings: Mapping[], opts: BackfillOptions): Promise<number> {
  for (const m of mappings) {
    const handle = await startBackfill(client, config, m, { batch: opts.batch, where: opts.where });
    if (opts.detach) {
      console.log(`${m.name}: backfill started  ${webUiLink(config, handle.workflowId)}`);
      continue;
    }
    const outcome = await waitForBackfill(handle);
    if (!outcome.ok) {
      const p = outcome.progress;
      console.error(
        `${m.name}: backfill ${outcome.reason}${p ? ` after ${p.rowsDone} rows (cursor ${p.cursor})` : ''}  ${webUiLink(config, handle.workflowId)}`,
      );
      return 1;
    }
    const p = outcome.progress;
    const seconds = (Date.parse(p.updatedAt) - Date.parse(p.startedAt)) / 1000;
    console.error(
      `${m.name}: ${p.rowsDone} rows in ${formatSeconds(seconds)} (${p.rate} rows/s): ${p.carried} carried, ${p.skipped} skipped, ` +
        `${p.handedOff} handed to their own syncLog workflow`,
    );
  }
  return 0;
}

/**
 * A --where that is not one allowed expression over the source table's
 * columns (src/bulk/where.ts), or that Postgres refuses (a type mismatch),
 * stops here; the worker checks it again.
 */
async function checkWhere(config: FerryConfig, mappings: Mapping[], where: string): Promise<void> {
  await withPool(config.database.url, 1, async (pool) => {
    for (const m of mappings) {
      const problem = await whereProblemOn(pool, m.source.table, where);
      if (problem) throw new BulkUsageError(`--where: ${problem} (on ${m.source.table})`);
      try {
        await pool.query(`EXPLAIN SELECT 1 FROM ${quoteTable(m.source.table)} s WHERE (${where})`);
      } catch (err) {
        throw new BulkUsageError(`--where: ${(err as Error).message} (on ${m.source.table})`);
      }
    }
  });
}
