import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { DATA_FAILURES, syncLogWorkflowId, TRANSFORM_ERROR, type BatchResult, type SyncLogInput } from '../src/contract/index.js';
import { mappingByName, type FerryConfig, type Mapping, type Row } from '../src/config.js';
import { logTable, withTransaction, type LogRow, type PgClient as Client, type Pool } from '../src/db/index.js';
import { dependencyRanks } from '../src/graph.js';
import { selectRowsStatement } from '../src/statements.js';
import { createCarry } from './carry.js';
import { singleRowIO } from './carry-io.js';
import { BatchIO } from './batch-io.js';
import { readSourceRows, type SourceRead } from './batch-source.js';
import { depthLevels, orderLogsParentsFirst, parentRefsOf, sourceRowName } from './parent-refs.js';

export interface BatchDeps {
  pool: Pool;
  config: FerryConfig;
}

/**
 * Carries many logs in one transaction, under exactly the rules of a single
 * sync (carry() in apply-change.ts), the reads and writes set-based per
 * mapping (BatchIO). A log that must wait for a parent, or whose row fails,
 * leaves the batch untouched: it stays pending, its workflow_id names its own
 * syncLog, and the caller starts that workflow.
 *
 * Parents first. Mappings go in dependency order. A row whose required
 * parent row is not in its target but has a pending log of its own (in this
 * batch or not: unclaimed, another batch's, a waiting syncLog's) would have
 * to wait: that log is pulled into the batch (gather), and so on up to the
 * roots; then each mapping's rows go level by level (a tree: roots, then
 * their children...), each level's writes flushed before the next level
 * reads its parents. So a tree inserted leaves first is carried in depth
 * order in one transaction, with no row waiting.
 *
 * When a row fails, the whole batch is carried again one row at a time, each
 * in a savepoint (the single sync's statements), so only that row leaves.
 */
export function createCarryBatch({ pool, config }: BatchDeps) {
  const Carry = createCarry(config);
  const ranks = dependencyRanks(config.mappings);
  // Whether a batch may have to pull in the logs of parents (a mapping with a required parent).
  const pullsParents = config.mappings.some((m) => m.parents.some((p) => !p.optional));

  return async function carryAsBatch(logIds: number[], carrier: string): Promise<BatchResult> {
    try {
      return await withTransaction(pool, (client) => together(client, logIds, carrier));
    } catch (err) {
      if (!isDataFailure(err)) throw err;
    }
    return withTransaction(pool, (client) => oneByOne(client, logIds, carrier));
  };

  async function together(client: Client, logIds: number[], carrier: string): Promise<BatchResult> {
    const result = emptyResult();
    const { logs, rows } = await gather(client, logIds, carrier);
    // gather returned them pending and locked: until this batch carries something, they stay so.
    let settledAny = false;
    for (const group of byMapping(logs, ranks)) {
      const mapping = config.mappings.find((m) => m.name === group[0]!.mapping);
      if (!mapping) {
        // Its logs fail, each in its own syncLog: one row at a time hands them over.
        throw ApplicationFailure.nonRetryable(`mapping "${group[0]!.mapping}" is not in the config`, TRANSFORM_ERROR);
      }
      // A tree within the mapping: each level's parents are written (flushed) before it is read.
      for (const level of depthLevels(group, sourceRowNameOf, (l) => sameMappingParents(mapping, rows.get(sourceRowNameOf(l))?.row))) {
        // A group or level carried before may have settled some of these (supersession, a pair's conflict).
        const pending = settledAny ? await stillPending(client, level) : level;
        if (!pending.length) continue;
        settledAny = true;
        const io = new BatchIO(client, config, mapping);
        await io.prefetch(pending, (key) => rows.get(sourceRowName(mapping.name, key)));
        let keep = false;
        for (const log of pending) {
          io.nextRow(keep);
          const outcome = await new Carry(io, log, carrier).run();
          // A row that waits for a parent or fails leaves for its own syncLog.
          keep = outcome.status === 'synced' || outcome.status === 'skipped';
          if (keep) {
            carried(result, log, outcome.status as 'synced' | 'skipped');
            wakeIfWaited(result, log);
          } else result.leftover.push(leave(config.instance, log));
        }
        io.nextRow(keep);
        result.waiters.push(...(await io.flush()));
      }
    }
    return handOver(client, config.instance, result);
  }

  async function oneByOne(client: Client, logIds: number[], carrier: string): Promise<BatchResult> {
    const result = emptyResult();
    const { logs, rows } = await gather(client, logIds, carrier);
    // Each row's writes are visible to the next: parents first is enough.
    for (const loaded of orderLogsParentsFirst(config, logs.sort(byRank(ranks)), (l) => rows.get(sourceRowNameOf(l))?.row)) {
      await client.query('SAVEPOINT carry_row');
      try {
        // As it is now: a row carried before may have settled this log.
        const log = (await logTable.findLog(client, loaded.id, { lock: true }))!;
        const outcome = await new Carry(singleRowIO(client, config), log, carrier).run();
        if (outcome.status === 'waiting_parent' || outcome.status === 'failed') throw new LeaveBatch();
        await client.query('RELEASE SAVEPOINT carry_row');
        carried(result, loaded, outcome.status);
        result.waiters.push(...outcome.waiters);
        wakeIfWaited(result, loaded);
      } catch (err) {
        if (!(err instanceof LeaveBatch) && !isDataFailure(err)) throw err;
        await client.query('ROLLBACK TO SAVEPOINT carry_row');
        result.leftover.push(leave(config.instance, loaded));
      }
    }
    return handOver(client, config.instance, result);
  }

  /**
   * The batch's logs, locked, and the pending logs of the rows they would
   * wait for, pulled in up to the roots: a row's required parent row that is
   * not in its target and has pending logs (all of that row's, so one carrier
   * has the row). Every log is locked in one statement in id order
   * (logTable.carriedAndPulled), before any row lock: batches reaching for the
   * same parents wait for each other there, in one order, and the later one
   * finds them carried. So the batch's own logs are locked (and read) first,
   * in a savepoint; only when there are logs to pull does it roll back to
   * release them and lock them again with the pulled ones. At most
   * PULL_FACTOR times the batch's own logs are pulled. `rows`: the source rows
   * read on the way, by sourceRowNameOf, with their versions (the prefetch
   * reads again only those that moved since).
   */
  async function gather(client: Client, logIds: number[], carrier: string): Promise<{ logs: LogRow[]; rows: Map<string, SourceRead> }> {
    const rows = new Map<string, SourceRead>();
    if (!pullsParents) return { logs: await logTable.carriedAndPulled(client, logIds, carrier, []), rows };
    await client.query('SAVEPOINT ferry_gather');
    const own = await logTable.carriedAndPulled(client, logIds, carrier, []);
    const seen = new Set(own.map(sourceRowNameOf));
    const limit = Math.max(PULL_MIN, PULL_FACTOR * own.length);
    const pulled: number[] = [];
    for (let frontier = own; frontier.length && pulled.length < limit;) {
      // The parent rows the frontier's rows name as required, not met yet.
      const wanted = new Map<string, Set<string>>();
      for (const [name, keys] of keysByMapping(frontier)) {
        const mapping = mappingByName(config, name);
        if (!mapping?.parents.some((p) => !p.optional)) continue;
        const found = await readSourceRows(client, mapping.source.table, mapping.source.key, keys);
        for (const [key, read] of found.rows) {
          rows.set(sourceRowName(name, key), read);
          for (const ref of read.row ? parentRefsOf(config, mapping, read.row) : []) {
            if (ref.optional || seen.has(sourceRowName(ref.parent.name, ref.key))) continue;
            seen.add(sourceRowName(ref.parent.name, ref.key));
            wanted.set(ref.parent.name, (wanted.get(ref.parent.name) ?? new Set()).add(ref.key));
          }
        }
      }
      frontier = [];
      for (const [name, keys] of wanted) {
        const parent = mappingByName(config, name)!;
        const present = await selectRows(client, parent.target.table, parent.target.key, [...keys]);
        const missing = [...keys].filter((k) => !present.has(k));
        if (!missing.length) continue;
        for (const log of await logTable.pendingOfRows(client, name, missing)) {
          if (pulled.length >= limit && !frontier.some((f) => f.row_key === log.row_key && f.mapping === name)) continue;
          frontier.push(log);
          pulled.push(log.id);
        }
      }
    }
    if (!pulled.length) {
      await client.query('RELEASE SAVEPOINT ferry_gather');
      return { logs: own, rows };
    }
    // The source rows of the last pulled ones were not read: they count as roots.
    await client.query('ROLLBACK TO SAVEPOINT ferry_gather; RELEASE SAVEPOINT ferry_gather');
    return { logs: await logTable.carriedAndPulled(client, logIds, carrier, pulled), rows };
  }

  /** The rows of its own mapping a source row names as required parents (a tree within a mapping), by sourceRowNameOf. */
  function sameMappingParents(mapping: Mapping, row: Row | null | undefined): string[] {
    if (!row) return [];
    return parentRefsOf(config, mapping, row).flatMap((r) =>
      !r.optional && r.parent.name === mapping.name ? [sourceRowName(r.parent.name, r.key)] : [],
    );
  }
}

/** Pulled into a batch at most this many times its own logs (and at least PULL_MIN). */
const PULL_FACTOR = 4;
const PULL_MIN = 100;

class LeaveBatch extends Error {}

/** The sourceRowName of a log's row. */
function sourceRowNameOf(log: Pick<LogRow, 'mapping' | 'row_key'>): string {
  return sourceRowName(log.mapping, log.row_key);
}

/** A log pulled from its own syncLog's wait was carried: that workflow gets a wake-up, finds it done, and ends. */
function wakeIfWaited(result: BatchResult, log: LogRow): void {
  if (log.waiting_mapping !== null) result.waiters.push(log.id);
}

function keysByMapping(logs: LogRow[]): Map<string, string[]> {
  const keys = new Map<string, Set<string>>();
  for (const l of logs) keys.set(l.mapping, (keys.get(l.mapping) ?? new Set()).add(l.row_key));
  return new Map([...keys].map(([m, k]) => [m, [...k]]));
}

/** Rows of a table by key (text), as jsonb. */
async function selectRows(client: Client, table: string, key: string, keys: string[]): Promise<Map<string, Row>> {
  const { rows } = await client.query<{ key: string; row: Row }>(selectRowsStatement(table, key, keys));
  return new Map(rows.map((r) => [r.key, r.row]));
}

async function stillPending(client: Client, logs: LogRow[]): Promise<LogRow[]> {
  const ids = await logTable.stillPending(
    client,
    logs.map((l) => l.id),
  );
  return logs.filter((l) => ids.has(l.id));
}

/** Logs that leave the batch now name their own syncLog, which the caller starts. */
async function handOver(client: Client, instance: string, result: BatchResult): Promise<BatchResult> {
  await logTable.setWorkflowIds(
    client,
    result.leftover.map((l) => ({ id: l.logId, workflowId: syncLogWorkflowId(instance, l.logId) })),
  );
  return result;
}

function leave(instance: string, log: LogRow): SyncLogInput {
  return { instance, logId: log.id, mapping: log.mapping, table: log.table_name };
}

function emptyResult(): BatchResult {
  return { synced: 0, skipped: 0, byMapping: {}, leftover: [], waiters: [] };
}

function carried(result: BatchResult, log: LogRow, status: 'synced' | 'skipped'): void {
  result[status]++;
  (result.byMapping[log.mapping] ??= { synced: 0, skipped: 0 })[status]++;
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
