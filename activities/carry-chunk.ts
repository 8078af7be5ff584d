import { ApplicationFailure } from '@temporalio/common';
import type { FerryConfig } from '../src/config.js';
import { withTransaction, type Client, type Pool } from '../src/db.js';
import { dependencyRanks } from '../src/graph.js';
import { workflowIdFor } from '../workflows/definitions.js';
import { createCarry } from './apply-change.js';
import { singleRowIO } from './carry-io.js';
import { ChunkIO } from './chunk-io.js';
import { loadLog, type LogRow } from './lookup.js';
import { dataFailureMessage, TRANSFORM_ERROR, type ChunkResult, type SyncLogInput } from './types.js';

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
  const carry = createCarry(config);
  const ranks = dependencyRanks(config.mappings);

  return async function carryLogs(logIds: number[], carrier: string): Promise<ChunkResult> {
    try {
      return await withTransaction(pool, (client) => inChunks(client, logIds, carrier));
    } catch (err) {
      if (!isDataFailure(err)) throw err;
    }
    return withTransaction(pool, (client) => oneByOne(client, logIds, carrier));
  };

  async function inChunks(client: Client, logIds: number[], carrier: string): Promise<ChunkResult> {
    const result = emptyResult();
    const logs = await loadChunk(client, logIds, carrier);
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
        const outcome = await carry(io, log);
        // A row that waits for a parent or fails leaves for its own syncLog.
        keep = outcome.status === 'synced' || outcome.status === 'skipped';
        if (keep) result[outcome.status as 'synced' | 'skipped']++;
        else result.leftover.push(leave(log));
      }
      io.nextRow(keep);
      result.waiters.push(...(await io.flush()));
    }
    return handOver(client, result);
  }

  async function oneByOne(client: Client, logIds: number[], carrier: string): Promise<ChunkResult> {
    const result = emptyResult();
    for (const loaded of (await loadChunk(client, logIds, carrier)).sort(byRank(ranks))) {
      await client.query('SAVEPOINT carry_row');
      try {
        // As it is now: a row carried before may have settled this log.
        const log = (await loadLog(client, loaded.id))!;
        const outcome = await carry(singleRowIO(client), log);
        if (outcome.status === 'waiting_parent' || outcome.status === 'failed') throw new LeaveChunk();
        await client.query('RELEASE SAVEPOINT carry_row');
        result[outcome.status]++;
        result.waiters.push(...outcome.waiters);
      } catch (err) {
        if (!(err instanceof LeaveChunk) && !isDataFailure(err)) throw err;
        await client.query('ROLLBACK TO SAVEPOINT carry_row');
        result.leftover.push(leave(loaded));
      }
    }
    return handOver(client, result);
  }
}

class LeaveChunk extends Error {}

/** The chunk's pending logs, locked; a log another workflow now carries (redispatched) is not ours any more. */
async function loadChunk(client: Client, logIds: number[], carrier: string): Promise<LogRow[]> {
  const { rows } = await client.query<LogRow>(
    `SELECT id, mapping, table_name, op, row_key, old_row, new_row, status, attempts, created_at
       FROM ferry.database_trigger_log
      WHERE id = ANY($1::bigint[]) AND status = 'pending' AND workflow_id = $2
      ORDER BY id FOR UPDATE`,
    [logIds, carrier],
  );
  return rows;
}

async function stillPending(client: Client, logs: LogRow[]): Promise<LogRow[]> {
  const { rows } = await client.query<{ id: number }>(
    `SELECT id FROM ferry.database_trigger_log WHERE id = ANY($1::bigint[]) AND status = 'pending'`,
    [logs.map((l) => l.id)],
  );
  const ids = new Set(rows.map((r) => r.id));
  return logs.filter((l) => ids.has(l.id));
}

/** Logs that leave the chunk now name their own syncLog, which the caller starts. */
async function handOver(client: Client, result: ChunkResult): Promise<ChunkResult> {
  if (result.leftover.length) {
    await client.query(
      `UPDATE ferry.database_trigger_log l SET workflow_id = w.id
         FROM unnest($1::bigint[], $2::text[]) AS w(log_id, id) WHERE l.id = w.log_id`,
      [result.leftover.map((l) => l.logId), result.leftover.map((l) => workflowIdFor(l.logId))],
    );
  }
  return result;
}

function leave(log: LogRow): SyncLogInput {
  return { logId: log.id, mapping: log.mapping, table: log.table_name };
}

function emptyResult(): ChunkResult {
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

function isDataFailure(err: unknown): boolean {
  return dataFailureMessage(err) !== undefined;
}
