import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { SyncBatchInput, SyncLogInput } from '../activities/types.js';
import {
  BATCH_WORKFLOW_TYPE,
  startSearchAttributes,
  SYNC_BATCH_ID_PATTERN,
  syncBatchWorkflowId,
  WORKFLOW_TYPE,
  workflowIdFor,
} from '../workflows/definitions.js';
import { jitteredDelay, pause } from './backoff.js';
import type { FerryConfig, Mapping } from './config.js';
import { withTransaction, type Pool } from './db.js';
import { dependencyRanks } from './graph.js';
import type { FerryEvents } from './events.js';
import type { Logger } from './logger.js';

interface Claimed {
  id: number;
  mapping: string;
  table_name: string;
}

// Claims a batch of pending logs by stamping dispatched_at. SKIP LOCKED lets
// several listeners share the work without waiting on each other.
// $2: mappings with a backlog, which go in batches instead.
const CLAIM_NEW = `
  UPDATE ferry.database_trigger_log l
     SET dispatched_at = now(), workflow_id = 'ferry-log-' || l.id
   WHERE l.id IN (SELECT id FROM ferry.database_trigger_log
                   WHERE status = 'pending' AND dispatched_at IS NULL AND mapping <> ALL ($2::text[])
                   ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
  RETURNING l.id, l.mapping, l.table_name`;

// Claimable logs per mapping: a mapping above listener.batchThreshold has a backlog.
const CLAIMABLE = `
  SELECT mapping, count(*)::int AS n FROM ferry.database_trigger_log
   WHERE status = 'pending' AND dispatched_at IS NULL GROUP BY mapping`;

// A batch's logs: parents' mappings first ($2 in dependency order), then id order.
const PICK_BATCH = `
  SELECT id FROM ferry.database_trigger_log
   WHERE status = 'pending' AND dispatched_at IS NULL AND mapping = ANY ($2::text[])
   ORDER BY array_position($2::text[], mapping), id LIMIT $1 FOR UPDATE SKIP LOCKED`;

// Of these mappings, those with parent-side work still unstarted or in a batch:
// their children's batches wait, so parents land first and children rarely wait.
const BUSY_PARENTS = `
  SELECT m AS mapping FROM unnest($1::text[]) AS m
   WHERE EXISTS (SELECT 1 FROM ferry.database_trigger_log
                  WHERE mapping = m AND status = 'pending' AND (dispatched_at IS NULL OR workflow_id LIKE $2))`;

// Pending logs dispatched long ago: their workflow may be gone (terminated,
// or the dispatching process died before starting it). Starting again is a
// no-op when it still runs.
const CLAIM_STALE = `
  UPDATE ferry.database_trigger_log l
     SET dispatched_at = now(), workflow_id = 'ferry-log-' || l.id
   WHERE l.id IN (SELECT id FROM ferry.database_trigger_log
                   WHERE status = 'pending' AND dispatched_at < now() - make_interval(secs => $2::float8 / 1000)
                   ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
  RETURNING l.id, l.mapping, l.table_name`;

/** How soon a dispatcher looks again while a backlog waits for its parents' batches. */
const HELD_RECHECK_MS = 250;

/** Workflow starts in flight per dispatcher round (the bench reuses it for its ceiling). */
export const START_CONCURRENCY = 32;

export interface DispatcherDeps {
  pool: Pool;
  client: Client;
  config: FerryConfig;
  logger: Logger;
  events: FerryEvents;
  /** Ask the server to hand new workflows to this process' own worker (it shares the client's connection). */
  eagerStart?: boolean;
}

/**
 * Starts one syncLog workflow per pending log. NOTIFY and the sweeper only
 * call kick(); the log table decides what is dispatched. Rounds never overlap:
 * a kick during a round makes one more round after it.
 */
export class Dispatcher {
  private running: Promise<void> | undefined;
  private again = false;
  private includeStale = false;
  private failures = 0;
  private readonly stop = new AbortController();
  private recheck: NodeJS.Timeout | undefined;
  /** Mappings in parent order, and each mapping's ancestors (for holding children's batches). */
  private readonly order: string[];
  private readonly ancestors: Map<string, string[]>;

  constructor(private readonly deps: DispatcherDeps) {
    const ranks = dependencyRanks(deps.config.mappings);
    this.order = [...ranks.keys()].sort((a, b) => ranks.get(a)! - ranks.get(b)!);
    this.ancestors = ancestorsOf(deps.config.mappings);
  }

  /** Ask for a dispatch round soon; cheap and safe to call from any event. */
  kick(opts: { stale?: boolean } = {}): void {
    if (opts.stale) this.includeStale = true;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  /** Dispatches everything pending now (new and stale); resolves when done. For `replay` and tests. */
  async drain(): Promise<number> {
    await this.running;
    let total = 0;
    for (;;) {
      const { started, held } = await this.round();
      const n = started + (await this.claimAndStart(CLAIM_STALE, true));
      total += n;
      if (n === 0 && !held) return total;
      if (n === 0) await pause(HELD_RECHECK_MS, this.stop.signal);
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
    clearTimeout(this.recheck);
    await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const stale = this.includeStale;
      this.includeStale = false;
      try {
        let held = false;
        for (;;) {
          const round = await this.round();
          held = round.held;
          if (round.started === 0 || this.stop.signal.aborted) break;
        }
        // Children's batches wait for their parents' batches to finish: look again soon.
        if (held) this.recheckSoon();
        if (stale) while ((await this.claimAndStart(CLAIM_STALE, true)) > 0 && !this.stop.signal.aborted);
        this.failures = 0;
      } catch (err) {
        this.failures++;
        const delayMs = jitteredDelay(this.failures);
        this.deps.logger.warn({ err: (err as Error).message, delayMs }, 'dispatch failed, retrying');
        this.again = true;
        this.includeStale ||= stale;
        await pause(delayMs, this.stop.signal);
      }
    } while (this.again && !this.stop.signal.aborted);
  }

  private recheckSoon(): void {
    clearTimeout(this.recheck);
    this.recheck = setTimeout(() => this.kick(), HELD_RECHECK_MS);
  }

  /**
   * One dispatch round. Mappings with a backlog (more claimable logs than
   * batchThreshold) go in syncBatch workflows; the others get one syncLog per
   * log, first, so a live change never queues behind a burst. `held`: some
   * backlog waits for its parents' batches.
   */
  private async round(): Promise<{ started: number; held: boolean }> {
    const { batchThreshold } = this.deps.config.listener;
    const { rows } = await this.deps.pool.query<{ mapping: string; n: number }>(CLAIMABLE);
    const backlog = rows.filter((r) => r.n > batchThreshold).map((r) => r.mapping);
    let started = await this.claimAndStart(CLAIM_NEW, false, backlog);
    if (!backlog.length) return { started, held: false };
    const parents = [...new Set(backlog.flatMap((m) => this.ancestors.get(m) ?? []))];
    const busy = new Set(
      parents.length
        ? (await this.deps.pool.query<{ mapping: string }>(BUSY_PARENTS, [parents, SYNC_BATCH_ID_PATTERN])).rows.map((r) => r.mapping)
        : [],
    );
    const ready = this.order.filter((m) => backlog.includes(m) && !(this.ancestors.get(m) ?? []).some((a) => busy.has(a)));
    for (let n; (n = await this.claimBatch(ready)) > 0; ) started += n;
    return { started, held: ready.length < backlog.length };
  }

  /** Claims up to batchSize logs of these mappings under one syncBatch and starts it; returns how many. */
  private async claimBatch(mappings: string[]): Promise<number> {
    if (!mappings.length) return 0;
    const { pool, client, config } = this.deps;
    const claimed = await withTransaction(pool, async (tx) => {
      const { rows } = await tx.query<{ id: number }>(PICK_BATCH, [config.listener.batchSize, mappings]);
      if (!rows.length) return undefined;
      const logIds = rows.map((r) => r.id).sort((a, b) => a - b);
      const input: SyncBatchInput = { first: logIds[0]!, last: logIds[logIds.length - 1]!, logIds };
      const workflowId = syncBatchWorkflowId(input.first, input.last);
      await tx.query(`UPDATE ferry.database_trigger_log SET dispatched_at = now(), workflow_id = $2 WHERE id = ANY($1)`, [logIds, workflowId]);
      return { input, workflowId };
    });
    if (!claimed) return 0;
    try {
      await client.workflow.start(BATCH_WORKFLOW_TYPE, {
        taskQueue: config.temporal.taskQueue,
        workflowId: claimed.workflowId,
        args: [claimed.input],
        requestEagerStart: this.deps.eagerStart,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
        await pool.query(`UPDATE ferry.database_trigger_log SET dispatched_at = NULL WHERE id = ANY($1)`, [claimed.input.logIds]);
        this.deps.events.emit('dispatchFailed', { error: err as Error, count: claimed.input.logIds.length });
        throw err;
      }
    }
    this.deps.events.emit('dispatched', { count: claimed.input.logIds.length, stale: false });
    return claimed.input.logIds.length;
  }

  private async claimAndStart(sql: string, stale = false, backlog: string[] = []): Promise<number> {
    const { batchSize, redispatchAfter } = this.deps.config.listener;
    const { rows } = await this.deps.pool.query<Claimed>(sql, stale ? [batchSize, redispatchAfter] : [batchSize, backlog]);
    if (rows.length === 0) return 0;
    const failed: number[] = [];
    let firstError: Error | undefined;
    await forEachLimited(rows, START_CONCURRENCY, async (row) => {
      try {
        await this.start({ logId: row.id, mapping: row.mapping, table: row.table_name });
      } catch (err) {
        failed.push(row.id);
        firstError ??= err as Error;
      }
    });
    if (failed.length) {
      // Back to the queue: the next round (or another listener) takes them.
      await this.deps.pool.query(`UPDATE ferry.database_trigger_log SET dispatched_at = NULL WHERE id = ANY($1)`, [failed]);
      this.deps.events.emit('dispatchFailed', { error: firstError!, count: failed.length });
      throw firstError;
    }
    this.deps.events.emit('dispatched', { count: rows.length, stale });
    return rows.length;
  }

  private async start(input: SyncLogInput): Promise<void> {
    await startSyncWorkflow(this.deps.client, this.deps.config, input, this.deps.eagerStart);
  }
}

/** Starts syncLog for a log; a no-op when that log's workflow already runs. */
export async function startSyncWorkflow(client: Client, config: FerryConfig, input: SyncLogInput, eager = false): Promise<'started' | 'running'> {
  try {
    await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.temporal.taskQueue,
      workflowId: workflowIdFor(input.logId),
      args: [input],
      typedSearchAttributes: startSearchAttributes(input),
      requestEagerStart: eager,
    });
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'running'; // the id makes a second start a no-op
    throw err;
  }
}

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}

/** Each mapping's ancestors through `parents`, transitively. */
function ancestorsOf(mappings: Mapping[]): Map<string, string[]> {
  const parentsOf = new Map(mappings.map((m) => [m.name, m.parents.map((p) => p.mapping)]));
  const result = new Map<string, string[]>();
  for (const m of mappings) {
    const seen = new Set<string>();
    const todo = [...(parentsOf.get(m.name) ?? [])];
    while (todo.length) {
      const next = todo.pop()!;
      if (seen.has(next) || next === m.name) continue;
      seen.add(next);
      todo.push(...(parentsOf.get(next) ?? []));
    }
    result.set(m.name, [...seen]);
  }
  return result;
}
