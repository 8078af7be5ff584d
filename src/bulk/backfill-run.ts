import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import {
  BACKFILL_WORKFLOW,
  backfillWorkflowId,
  FerryInstance,
  FerryMapping,
  FerryState,
  FerryTable,
  progressQuery,
  type BackfillInput,
  type BackfillProgress,
} from '../contract/index.js';
import type { FerryConfig, Mapping } from '../config.js';
import { backfillInputs, withPool } from '../db/index.js';
import { progressWriter } from './progress-bar.js';

export interface BackfillRequest {
  /** Rows per chunk. */
  batch: number;
  /** `--where`: an SQL condition on the source table. */
  where?: string;
  /** Repair: only these source keys. */
  keys?: string[];
  /** Repair: target keys whose source is gone. */
  orphans?: string[];
}

/**
 * Starts the backfill of one mapping, or attaches to the one that runs
 * (one per mapping at a time: its workflow id names the mapping). The
 * request's --where and keys go to ferry.backfill_inputs; the workflow is
 * started with that row's id.
 */
export async function startBackfill(client: Client, config: FerryConfig, mapping: Mapping, request: BackfillRequest): Promise<WorkflowHandle> {
  const workflowId = backfillWorkflowId(config.instance, mapping.name);
  const running = await runningHandle(client, workflowId);
  if (running) return running;
  const { batch, ...inputs } = request;
  const runId = await withPool(config.database.url, 1, (pool) => backfillInputs.save(pool, { workflowId, mapping: mapping.name, ...inputs }));
  const input: BackfillInput = { instance: config.instance, mapping: mapping.name, table: mapping.source.table, batch, runId };
  return client.workflow.start(BACKFILL_WORKFLOW, {
    taskQueue: config.temporal.taskQueue,
    workflowId,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [
      { key: FerryInstance, value: config.instance },
      { key: FerryMapping, value: mapping.name },
      { key: FerryTable, value: mapping.source.table },
      { key: FerryState, value: 'backfilling' },
    ],
  });
}

/** Cancels a mapping's running backfill; false when none runs. */
export async function cancelBackfill(client: Client, config: FerryConfig, mapping: string): Promise<boolean> {
  const handle = await runningHandle(client, backfillWorkflowId(config.instance, mapping));
  await handle?.cancel();
  return handle !== undefined;
}

async function runningHandle(client: Client, workflowId: string): Promise<WorkflowHandle | undefined> {
  try {
    const handle = client.workflow.getHandle(workflowId);
    const { status } = await handle.describe();
    return status.name === 'RUNNING' ? handle : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

export type BackfillOutcome = { ok: true; progress: BackfillProgress } | { ok: false; reason: string; progress?: BackfillProgress };

/**
 * Waits for a backfill to end, showing its `progress` query as it goes (a
 * bar on a terminal, JSON lines otherwise). A worker that does not answer
 * the query yet (busy, or restarting) only delays the next line.
 */
export async function waitForBackfill(handle: WorkflowHandle, out = progressWriter()): Promise<BackfillOutcome> {
  let last: BackfillProgress | undefined;
  let ended: BackfillOutcome | undefined;
  const result = handle.result().then(
    (progress: BackfillProgress) => (ended = { ok: true, progress }),
    (err) => (ended = { ok: false, reason: failureReason(err) }),
  );
  const show = (p: BackfillProgress) =>
    out.update(
      { label: p.mapping, done: p.rowsDone, total: p.rowsTotal, rate: p.rate },
      { state: p.state, ...(p.cursor !== null ? { cursor: p.cursor } : {}) },
    );
  // One query in flight at a time: a busy worker answers late, and piling
  // queries up fills the server's query buffer.
  let asking: Promise<unknown> | undefined;
  while (!ended) {
    await Promise.race([result, sleep(500)]);
    if (ended || asking) continue;
    asking = handle
      .query(progressQuery)
      .then((progress) => !ended && show((last = progress)))
      .catch(() => undefined)
      .finally(() => (asking = undefined));
  }
  const outcome = ended as BackfillOutcome;
  if (outcome.ok) show(outcome.progress);
  out.end();
  return outcome.ok ? outcome : { ...outcome, progress: last };
}

function failureReason(err: unknown): string {
  if (err instanceof WorkflowFailedError) {
    const cause = err.cause;
    if (cause?.name === 'CancelledFailure') return 'cancelled';
    return cause?.message ?? err.message;
  }
  return (err as Error).message;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
