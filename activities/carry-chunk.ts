import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { DATA_FAILURES, syncLogWorkflowId, TRANSFORM_ERROR, type BatchResult, type SyncLogInput } from '../src/contract/index.js';
import type { FerryConfig } from '../src/config.js';
import { logTable, withTransaction, type LogRow, type PgClient as Client, type Pool } from '../src/db/index.js';
import { dependencyRanks } from '../src/graph.js';
import { createCarry } from './apply-change.js';
import { singleRowIO } from './carry-io.js';
import { ChunkIO } from './chunk-io.js';

export interface ChunkDeps {
  pool: Pool;
  config: FerryConfig;
}

/**
 * Carries many logs in one transaction, under exactly the rules of a single
 * sync (carry() in apply-change.ts), the reads and writes set-based per
 * mapping (ChunkIO). A log that must wait for a parent, or whose row fails,
 * leaves the chunk untouched: it stays pending, its workflow_id names its own
 * syncLog, and the caller starts that workflow. Mappings go parents first.
 *
 * When a row fails, the whole chunk is carried again one row at a time, each
 * in a savepoint (the single sync's statements), so only that row leaves.
 */
export function createCarryLogs({ pool, config }: ChunkDeps) {
  const Carry = createCarry(config);
  const ranks = dependencyRanks(config.mappings);

  return async function carryLogs(logIds: number[], carrier: string): Promise<BatchResult> {
    try {
      return await withTransaction(pool, (client) => inChunks(client, logIds, carrier));
    } catch (err) {
      if (!isDataFailure(err)) throw err;
    }
    return withTransaction(pool, (client) => oneByOne(client, logIds, carrier));
  };

  async function inChunks(client: Client, logIds: number[], carrier: string): Promise<BatchResult> {
    const result = emptyResult();
    const logs = await logTable.carriedBy(client, logIds, carrier);
    for (const group of byMapping(logs, ranks)) {
      const mapping = config.mappings.find((m) => m.name === group[0]!.mapping);
      if (!mapping) {
        // Its logs fail, each in its own syncLog: one row at a time hands them over.
        throw ApplicationFailure.nonRetryable(`mapping "${group[0]!.mapping}" is not in the config`, TRANSFORM_ERROR);
      }
      // A group carried before may have settled some of these (a pair's conflict marks the loser).
      const pending = await stillPending(client, group);
      if (!pending.length) continue;
      const io = new ChunkIO(client, config, mapping);
      await io.prefetch(pending);
      let keep = false;
      for (const log of pending) {
        io.nextRow(keep);
        const outcome = await new Carry(io, log, carrier).run();
        // A row that waits for a parent or fails leaves for its own syncLog.
        keep = outcome.status === 'synced' || outcome.status === 'skipped';
        if (keep) result[outcome.status as 'synced' | 'skipped']++;
        else result.leftover.push(leave(config.instance, log));
      }
      io.nextRow(keep);
      result.waiters.push(...(await io.flush()));
    }
    return handOver(client, config.instance, result);
  }

  async function oneByOne(client: Client, logIds: number[], carrier: string): Promise<BatchResult> {
    const result = emptyResult();
    for (const loaded of (await logTable.carriedBy(client, logIds, carrier)).sort(byRank(ranks))) {
      await client.query('SAVEPOINT carry_row');
      try {
        // As it is now: a row carried before may have settled this log.
        const log = (await logTable.findLog(client, loaded.id, { lock: true }))!;
        const outcome = await new Carry(singleRowIO(client), log, carrier).run();
        if (outcome.status === 'waiting_parent' || outcome.status === 'failed') throw new LeaveChunk();
        await client.query('RELEASE SAVEPOINT carry_row');
        result[outcome.status]++;
        result.waiters.push(...outcome.waiters);
      } catch (err) {
        if (!(err instanceof LeaveChunk) && !isDataFailure(err)) throw err;
        await client.query('ROLLBACK TO SAVEPOINT carry_row');
        result.leftover.push(leave(config.instance, loaded));
      }
    }
    return handOver(client, config.instance, result);
  }
}

class LeaveChunk extends Error {}

async function stillPending(client: Client, logs: LogRow[]): Promise<LogRow[]> {
  const ids = await logTable.stillPending(client, logs.map((l) => l.id));
  return logs.filter((l) => ids.has(l.id));
}

/** Logs that leave the chunk now name their own syncLog, which the caller starts. */
async function handOver(client: Client, instance: string, result: BatchResult): Promise<BatchResult> {
  await logTable.setWorkflowIds(client, result.leftover.map((l) => ({ id: l.logId, workflowId: syncLogWorkflowId(instance, l.logId) })));
  return result;
}

function leave(instance: string, log: LogRow): SyncLogInput {
  return { instance, logId: log.id, mapping: log.mapping, table: log.table_name };
}

function emptyResult(): BatchResult {
  return { synced: 0, skipped: 0, leftover: [], waiters: [] };
}

function byRank(ranks: Map<string, number>) {
  return (a: LogRow, b: LogRow) => (ranks.get(a.mapping) ?? 0) - (ranks.get(b.mapping) ?? 0) || a.id - b.id;
}

/** Logs grouped by mapping, parents' mappings first, each group in id order. */
function byMapping(logs: LogRow[], ranks: Map<string, number>): LogRow[][] {
  const groups = new Map<string, LogRow[]>();
  for (const log of [...logs].sort(byRank(ranks))) {
    const group = groups.get(log.mapping) ?? [];
    group.push(log);
    groups.set(log.mapping, group);
  }
  return [...groups.values()];
}

/** A failure of the row itself (bad data, bad transform), which a retry cannot fix. */
function isDataFailure(err: unknown): boolean {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  return failure instanceof ApplicationFailure && !!failure.type && DATA_FAILURES.includes(failure.type);
}
