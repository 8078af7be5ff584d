import { whereProblemOn } from '../where.js';
import type { Client } from '@temporalio/client';
import { cancelBackfill, startBackfill, waitForBackfill } from '../bulk/backfill-run.js';
import { parentsFirst } from '../bulk/order.js';
import { formatSeconds } from '../bulk/progress-bar.js';
import { mappingByName, type FerryConfig, type Mapping } from '../config.js';
import { backfillWorkflowId } from '../contract/index.js';
import type { OutputFormat } from '../cli/common-options.js';
import { emit } from '../cli/output.js';
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
  output?: OutputFormat;
}

/** One mapping's outcome, as `-o json` prints it. */
interface BackfillResult {
  mapping: string;
  workflowId: string;
  outcome: string;
  webUi?: string;
  progress?: unknown;
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
  const results: BackfillResult[] = [];
  // Text lines as they happen; with -o json, one document at the end.
  const say = opts.output === 'json' ? (_: string, r: BackfillResult) => void results.push(r) : (line: string) => console.log(line);
  try {
    return opts.cancel ? await cancelAll(client, config, mappings, say) : await runAll(client, config, mappings, opts, say);
  } finally {
    await client.connection.close();
    if (opts.output === 'json') emit('json', results, () => '');
  }
}

type Say = (line: string, result: BackfillResult) => void;

async function cancelAll(client: Client, config: FerryConfig, mappings: Mapping[], say: Say): Promise<number> {
  let code = 0;
  for (const m of mappings) {
    const workflowId = backfillWorkflowId(config.instance, m.name);
    if (await cancelBackfill(client, config, m.name))
      say(`${m.name}: backfill cancelled (${workflowId})`, { mapping: m.name, workflowId, outcome: 'cancelled' });
    else {
      say(`${m.name}: no backfill running`, { mapping: m.name, workflowId, outcome: 'not running' });
      code = 1;
    }
  }
  return code;
}

async function runAll(client: Client, config: FerryConfig, mappings: Mapping[], opts: BackfillOptions, say: Say): Promise<number> {
  for (const m of mappings) {
    const handle = await startBackfill(client, config, m, { batch: opts.batch, where: opts.where });
    if (opts.detach) {
      const webUi = webUiLink(config, handle.workflowId);
      say(`${m.name}: backfill started  ${webUi}`, { mapping: m.name, workflowId: handle.workflowId, outcome: 'started', webUi });
      continue;
    }
    const outcome = await waitForBackfill(handle);
    const result = { mapping: m.name, workflowId: handle.workflowId, webUi: webUiLink(config, handle.workflowId), progress: outcome.progress };
    if (opts.output === 'json') say('', { ...result, outcome: outcome.ok ? 'completed' : outcome.reason });
    if (!outcome.ok) {
      const p = outcome.progress;
      console.error(
        `${m.name}: backfill ${outcome.reason}${p ? ` after ${p.rowsDone} rows${p.cursor !== null ? ` (cursor ${p.cursor})` : ''}` : ''}  ${webUiLink(config, handle.workflowId)}`,
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
