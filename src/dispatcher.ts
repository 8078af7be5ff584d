import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { startSearchAttributes, SYNC_LOG_WORKFLOW, syncLogSummary, syncLogWorkflowId, type SyncLogInput } from './contract/index.js';
import { jitteredDelay, pause } from './backoff.js';
import type { FerryConfig } from './config.js';
import { ClaimOwner } from './claims.js';
import { logTable, type Pool } from './db/index.js';
import type { FerryEvents } from './events.js';
import type { Logger } from './logger.js';

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
  /** Whose claims these are: they last as long as this process holds the owner's lock. */
  private readonly owner: ClaimOwner;

  constructor(private readonly deps: DispatcherDeps) {
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

  /** Dispatches everything pending now (new and stale); resolves when done. For `replay` and tests. */
  async drain(): Promise<number> {
    await this.running;
    let total = 0;
    for (;;) {
      const n = (await this.claimAndStart(false)) + (await this.claimAndStart(true));
      total += n;
      if (n === 0) return total;
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
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
        for (let n; (n = await this.claimAndStart(false)) > 0 && !this.stop.signal.aborted; ) claimed += n;
        if (stale) while ((await this.claimAndStart(true)) > 0 && !this.stop.signal.aborted);
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

  /**
   * Claims a batch of pending logs and starts their workflows: new logs, or
   * in a sweep (`stale`) also those whose claimer is gone (a killed process:
   * its workflows may never have started) and, as the last safety net, those
   * claimed more than redispatchAfter ago (a terminated workflow). Starting a
   * workflow that runs is a no-op, so a claim taken over is always safe.
   */
  private async claimAndStart(stale: boolean): Promise<number> {
    const { batchSize, redispatchAfter } = this.deps.config.listener;
    const owner = await this.owner.id();
    const rows = await logTable.claim(this.deps.pool, {
      limit: batchSize,
      owner,
      ...(stale ? { sweep: { staleAfterMs: redispatchAfter } } : {}),
    });
    if (rows.length === 0) return 0;
    const failed: number[] = [];
    let firstError: Error | undefined;
    await forEachLimited(rows, START_CONCURRENCY, async (row) => {
      try {
        const input = { instance: this.deps.config.instance, logId: row.id, mapping: row.mapping, table: row.table_name };
        await this.start(input, syncLogSummary({ mapping: row.mapping, op: row.op, rowKey: row.row_key, logId: row.id }));
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
    this.deps.events.emit('dispatched', { count: rows.length, stale });
    return rows.length;
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
