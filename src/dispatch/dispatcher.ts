import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  startSearchAttributes,
  SYNC_BATCH_WORKFLOW,
  syncBatchIdPattern,
  syncBatchWorkflowId,
  SYNC_LOG_WORKFLOW,
  syncLogSummary,
  syncLogWorkflowId,
  type SyncBatchInput,
  type SyncLogInput,
} from '../contract/index.js';
import { jitteredDelay, pause } from '../reconnect-backoff.js';
import type { FerryConfig } from '../config.js';
import { ClaimOwner } from './claims.js';
import { logTable, withTransaction, type Pool } from '../db/index.js';
import { ancestorsOf, dependencyRanks } from '../graph.js';
import type { FerryEvents } from '../events.js';
import type { Logger } from '../logger.js';

/** How soon a dispatcher looks again while a backlog waits for its parents' batches. */
const HELD_RECHECK_MS = 250;

/** Batches claimed and started per dispatch round, before single logs get their turn again. */
const BATCHES_PER_ROUND = 4;

/**
 * Batches of a backlog claimed ahead of the workers, at most. A backlog is
 * claimed as the workers take it, not all at once: a million logs claimed in
 * the first minute would wait in Temporal's queue for longer than
 * listener.redispatchAfter, and every claimed log is read by the sweep.
 * Enough to keep 16 worker processes' 2 batch slots busy between rounds.
 */
const BATCHES_AHEAD = 32;

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
  /** Whose claims these are: they last as long as this process holds the owner's lock. */
  private readonly owner: ClaimOwner;

  constructor(private readonly deps: DispatcherDeps) {
    const ranks = dependencyRanks(deps.config.mappings);
    this.order = [...ranks.keys()].sort((a, b) => ranks.get(a)! - ranks.get(b)!);
    this.ancestors = ancestorsOf(deps.config.mappings);
    this.owner = new ClaimOwner(deps.config.database.listenUrl ?? deps.config.database.url);
  }

  /** Ask for a dispatch round soon; cheap and safe to call from any event. */
  kick(opts: { stale?: boolean } = {}): void {
    if (this.stop.signal.aborted) return;
    if (opts.stale) this.includeStale = true;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  /**
   * Dispatches everything pending now (new and stale); resolves when done. For
   * `replay` and tests: the whole backlog at once, not a few batches ahead of
   * the workers, so it returns even when no worker runs yet.
   */
  async drain(): Promise<number> {
    await this.running;
    await this.releaseOrphans();
    let total = 0;
    for (;;) {
      const { started, held } = await this.round(Infinity);
      const n = started;
      total += n;
      if (n === 0 && !held) return total;
      if (n === 0) await pause(HELD_RECHECK_MS, this.stop.signal);
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
    clearTimeout(this.recheck);
    await this.running;
    await this.owner.close();
  }

  private async loop(): Promise<void> {
    let claimed = 0;
    do {
      this.again = false;
      const stale = this.includeStale;
      this.includeStale = false;
      try {
        if (stale) await this.releaseOrphans();
        let held = false;
        for (;;) {
          const round = await this.round(BATCHES_AHEAD * this.deps.config.listener.batchSize);
          held = round.held;
          claimed += round.started;
          if (round.started === 0 || this.stop.signal.aborted) break;
        }
        // Children's batches wait for their parents' batches to finish: look again soon.
        if (held) this.recheckSoon();
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
    // Notify mode: a transaction that saw others' logs waiting sends no NOTIFY
    // (sql/003), counting on this dispatcher to look again while it is busy.
    const { capture, listener } = this.deps.config;
    if (claimed > 0 && capture.notify && !this.stop.signal.aborted) setTimeout(() => this.kick(), listener.pollInterval).unref();
  }

  /** A sweep: claims no live dispatcher stands behind go back to the queue (logTable.releaseOrphans). */
  private async releaseOrphans(): Promise<void> {
    const released = await logTable.releaseOrphans(this.deps.pool, this.deps.config.listener.redispatchAfter);
    if (released === 0) return;
    this.deps.logger.info({ released }, 'took over claims no live dispatcher stands behind');
    this.deps.events.emit('claimsReleased', { count: released });
  }

  private recheckSoon(): void {
    clearTimeout(this.recheck);
    this.recheck = setTimeout(() => this.kick(), HELD_RECHECK_MS);
  }

  /**
   * One dispatch round. Mappings with a backlog (more than batchThreshold
   * logs queued: claimable, or dispatched and not carried yet, so a steady
   * stream the workers cannot keep up with one workflow per log counts too)
   * go in syncBatch workflows; the others get one syncLog per log, first, so
   * a live change never queues behind a burst. `held`: some backlog waits
   * for its parents' batches, or for the workers to take the batches ahead.
   * `ahead`: the most logs a backlog may have in batches not carried yet.
   */
  private async round(ahead: number): Promise<{ started: number; held: boolean }> {
    const { pool, config } = this.deps;
    const claimed = await this.claimAndStart();
    let { started } = claimed;
    const { backlog } = claimed;
    if (!backlog.length) return { started, held: false };
    const parents = [...new Set(backlog.flatMap((m) => this.ancestors.get(m) ?? []))];
    const batches = syncBatchIdPattern(config.instance);
    const busy = await logTable.busyMappings(pool, parents, batches);
    const ready = this.order.filter((m) => backlog.includes(m) && !(this.ancestors.get(m) ?? []).some((a) => busy.has(a)));
    // Only a few batches ahead of the workers: the next round tops them up.
    let room = !ready.length ? 0 : ahead === Infinity ? ahead : ahead - (await logTable.inBatches(pool, ready, batches, ahead));
    // A few batches per round: the next round claims new single logs first, so a
    // live change waits for a handful of batch starts, never for a whole burst's.
    for (let n, k = 0; k < BATCHES_PER_ROUND && room > 0 && (n = await this.claimBatch(ready)) > 0; k++) {
      started += n;
      room -= n;
    }
    return { started, held: ready.length < backlog.length || (ready.length > 0 && room <= 0) };
  }

  /** Claims up to batchSize logs of these mappings under one syncBatch and starts it; returns how many. */
  private async claimBatch(mappings: string[]): Promise<number> {
    if (!mappings.length) return 0;
    const { pool, client, config } = this.deps;
    const { instance } = config;
    const owner = await this.owner.id();
    const claimed = await withTransaction(pool, (tx) =>
      logTable.claimBatch(tx, { limit: config.listener.batchSize, owner }, mappings, (first, last) => syncBatchWorkflowId(instance, first, last)),
    );
    if (!claimed) return 0;
    const { logIds, workflowId } = claimed;
    const input: SyncBatchInput = { instance, first: logIds[0]!, last: logIds[logIds.length - 1]!, logIds };
    try {
      await client.workflow.start(SYNC_BATCH_WORKFLOW, {
        taskQueue: config.temporal.taskQueue,
        workflowId,
        args: [input],
        requestEagerStart: this.deps.eagerStart,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
        await logTable.unclaim(pool, logIds);
        this.deps.events.emit('dispatchFailed', { error: err as Error, count: logIds.length });
        throw err;
      }
    }
    this.deps.events.emit('dispatched', { count: logIds.length, carrier: 'batch' });
    return logIds.length;
  }

  /** Claims up to batchSize new logs of mappings without a backlog and starts one syncLog for each; says which mappings have a backlog. */
  private async claimAndStart(): Promise<{ started: number; backlog: string[] }> {
    const { batchSize, batchThreshold } = this.deps.config.listener;
    const owner = await this.owner.id();
    const { logs: rows, backlog } = await logTable.claim(this.deps.pool, { limit: batchSize, owner, backlogAbove: batchThreshold });
    if (rows.length === 0) return { started: 0, backlog };
    const failed: number[] = [];
    let firstError: Error | undefined;
    await forEachLimited(rows, START_CONCURRENCY, async (row) => {
      try {
        const input = { instance: this.deps.config.instance, logId: row.id, mapping: row.mapping, table: row.table_name };
        await this.start(input, syncLogSummary({ mapping: row.mapping, op: row.op, logId: row.id }));
      } catch (err) {
        failed.push(row.id);
        firstError ??= err as Error;
      }
    });
    if (failed.length) {
      // Back to the queue: the next round (or another listener) takes them.
      await logTable.unclaim(this.deps.pool, failed);
      this.deps.events.emit('dispatchFailed', { error: firstError!, count: failed.length });
      throw firstError;
    }
    this.deps.events.emit('dispatched', { count: rows.length, carrier: 'log' });
    return { started: rows.length, backlog };
  }

  private async start(input: SyncLogInput, summary: string): Promise<void> {
    await startSyncWorkflow(this.deps.client, this.deps.config, input, this.deps.eagerStart, summary);
  }
}

/** Starts syncLog for a log; a no-op when that log's workflow already runs. */
export async function startSyncWorkflow(
  client: Client,
  config: FerryConfig,
  input: SyncLogInput,
  eager = false,
  summary = syncLogSummary(input),
): Promise<'started' | 'running'> {
  try {
    await client.workflow.start(SYNC_LOG_WORKFLOW, {
      taskQueue: config.temporal.taskQueue,
      workflowId: syncLogWorkflowId(input.instance, input.logId),
      args: [input],
      typedSearchAttributes: startSearchAttributes(input),
      requestEagerStart: eager,
      staticSummary: summary,
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
