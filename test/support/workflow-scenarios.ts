// Ferry's workflows driven by scripted activities (no Postgres): what
// test/workflows.int.test.ts asserts, and what `npm run histories:save` saves
// into test/histories/ for the replay test. One script per scenario, so the
// saved histories are exactly the runs the tests check.
import { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import {
  backfillWorkflowId,
  batchTaskQueue,
  startSearchAttributes,
  syncBatchWorkflowId,
  syncLogWorkflowId,
  type ApplyResult,
  type BackfillActivities,
  type BackfillInput,
  type BackoffPolicy,
  type BatchResult,
  type ChunkInput,
  type ChunkResult,
  type SyncActivities,
  type SyncBatchInput,
  type SyncLogInput,
} from '../../src/contract/index.js';
import { silentLogger } from '../../src/logger.js';
import { installRuntime } from '../../src/worker/worker.js';
import { waitFor } from './wait.js';

export const TASK_QUEUE = 'ferry-wf';

/** A short backoff so a scenario that waits out its attempts takes milliseconds. */
export const QUICK: BackoffPolicy = { initialInterval: 10, backoffCoefficient: 2, maximumInterval: 40, maximumAttempts: 3 };
/** A wait that only a signal can cut short within a test's time. */
export const HOUR: BackoffPolicy = { initialInterval: 3_600_000, backoffCoefficient: 2, maximumInterval: 3_600_000, maximumAttempts: 10 };

const SYNCED: ApplyResult = { status: 'synced', detail: 'upserted', already: false, waiters: [] };

export function waiting(policy: BackoffPolicy, parentLogId: number | null, attempts: number): ApplyResult {
  return {
    status: 'waiting_parent',
    parent: { mapping: 'orgs', table: 'portal.orgs', column: 'org_id', logId: parentLogId },
    attempts,
    policy,
  };
}

/**
 * Activities that answer from a script: `applyChange` for log N returns the
 * next of `plan[N]` (the last one repeats). Every call is recorded.
 */
export class ScriptedActivities {
  readonly calls: string[] = [];
  readonly failed: { logId: number; error: string; attempted: boolean }[] = [];
  private readonly seen = new Map<number, number>();

  constructor(
    private readonly plan: Record<number, (attempt: number) => ApplyResult>,
    private readonly batch?: (input: SyncBatchInput) => BatchResult,
    private readonly chunks?: (input: ChunkInput) => ChunkResult,
  ) {}

  activities(): SyncActivities & BackfillActivities {
    return {
      applyChange: async (input: SyncLogInput) => {
        const attempt = (this.seen.get(input.logId) ?? 0) + 1;
        this.seen.set(input.logId, attempt);
        this.calls.push(`applyChange ${input.logId}`);
        const step = this.plan[input.logId];
        if (!step) throw new Error(`no script for log ${input.logId}`);
        return step(attempt);
      },
      markFailed: async (input: SyncLogInput, error: string, attempted: boolean) => {
        this.failed.push({ logId: input.logId, error, attempted });
      },
      carryBatch: async (input: SyncBatchInput) => {
        this.calls.push(`carryBatch ${input.first}-${input.last}`);
        return this.batch!(input);
      },
      countBackfillRows: async () => 150,
      backfillChunk: async (input) => this.chunks!(input),
      removeOrphans: async () => 0,
      recordBackfill: async () => {},
    };
  }
}

export interface WorkflowEnv {
  address: string;
  namespace: string;
  workflowBundle: WorkflowBundleOption;
  /** Names the workflows (config `instance`); one per run keeps ids apart. */
  instance: string;
}

/** Runs `fn` while a main and a batch worker serve the scripted activities. */
export async function withWorkers<T>(env: WorkflowEnv, script: ScriptedActivities, fn: (client: Client) => Promise<T>): Promise<T> {
  await installRuntime(silentLogger);
  const nativeConnection = await NativeConnection.connect({ address: env.address });
  const connection = await Connection.connect({ address: env.address });
  const client = new Client({ connection, namespace: env.namespace });
  const common = { connection: nativeConnection, namespace: env.namespace, activities: script.activities() };
  try {
    const main = await Worker.create({ ...common, taskQueue: TASK_QUEUE, workflowBundle: env.workflowBundle });
    const batch = await Worker.create({ ...common, taskQueue: batchTaskQueue(TASK_QUEUE) });
    const work = fn(client);
    // Both workers stop (drained) before the connections close, whatever `work` did.
    const runs = await Promise.allSettled([main.runUntil(work), batch.runUntil(work)]);
    const result = await work;
    for (const run of runs) if (run.status === 'rejected') throw run.reason;
    return result;
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
}

export function logInput(env: WorkflowEnv, logId: number): SyncLogInput {
  return { instance: env.instance, logId, mapping: 'users', table: 'portal.users' };
}

export function startSyncLog(client: Client, env: WorkflowEnv, logId: number): Promise<WorkflowHandle> {
  const input = logInput(env, logId);
  return client.workflow.start('syncLog', {
    taskQueue: TASK_QUEUE,
    workflowId: syncLogWorkflowId(env.instance, logId),
    args: [input],
    typedSearchAttributes: startSearchAttributes(input),
  });
}

/** Log 1 waits for a parent that has no pending log: it sleeps on a durable timer (an hour). */
export const waitingScript = () => new ScriptedActivities({ 1: (n) => (n === 1 ? waiting(HOUR, null, 1) : SYNCED) });

/** Resolves once the handle's history shows a started timer: the sync sleeps. */
export async function untilTimerStarted(handle: WorkflowHandle): Promise<void> {
  await waitFor('a durable timer in the history', async () => {
    const history = await handle.fetchHistory();
    return history.events?.some((e) => e.timerStartedEventAttributes) ?? false;
  });
}

/** Log 1 waits for a parent that never comes: QUICK backs off, then fails after maximumAttempts. */
export const backoffScript = () => new ScriptedActivities({ 1: (n) => waiting(QUICK, null, n) });

/** Log 10 waits for parent log 11, which it runs as a child workflow; 11 synced, 10 goes on. */
export const parentScript = () =>
  new ScriptedActivities({
    10: (n) => (n === 1 ? waiting(HOUR, 11, 1) : SYNCED),
    11: () => ({ ...SYNCED, waiters: [10] }),
  });

/** A batch of logs 20..23 carries two; 22 and 23 are left over, each to its own syncLog. */
export const batchScript = (env: WorkflowEnv) =>
  new ScriptedActivities({ 22: () => SYNCED, 23: () => SYNCED }, () => ({
    synced: 2,
    skipped: 0,
    byMapping: { users: { synced: 2, skipped: 0 } },
    leftover: [logInput(env, 22), logInput(env, 23)],
    waiters: [],
  }));

export function startBatch(client: Client, env: WorkflowEnv): Promise<WorkflowHandle> {
  const input: SyncBatchInput = { instance: env.instance, first: 20, last: 23, logIds: [20, 21, 22, 23] };
  return client.workflow.start('syncBatch', { taskQueue: TASK_QUEUE, workflowId: syncBatchWorkflowId(env.instance, 20, 23), args: [input] });
}

/** BACKFILL_ROWS rows, one a chunk: more chunks than one run takes, so the backfill continues as new. */
export const BACKFILL_ROWS = 105;
export const backfillScript = () =>
  new ScriptedActivities({}, undefined, ({ after }) => {
    const next = Number(after ?? 0) + 1;
    const read = next <= BACKFILL_ROWS ? 1 : 0;
    return { read, lastKey: read ? String(next) : null, carried: read, skipped: 0, byMapping: {}, handOff: [], waiters: [] };
  });

/** The same rows for a backfill started with a run id: its cursor stays in ferry.backfill_inputs, each chunk says whether it was the last. */
export const backfillRunScript = () =>
  new ScriptedActivities({}, undefined, ({ chunk = 0 }) => {
    const read = chunk < BACKFILL_ROWS ? 1 : 0;
    return { read, lastKey: null, done: chunk + 1 >= BACKFILL_ROWS, carried: read, skipped: 0, byMapping: {}, handOff: [], waiters: [] };
  });

/** A backfill of mapping `users`: with `runId`, as `ferry backfill` starts one; without, as runs started before ferry.backfill_inputs. */
export function startBackfill(client: Client, env: WorkflowEnv, runId?: number): Promise<WorkflowHandle> {
  const input: BackfillInput = {
    instance: env.instance,
    mapping: 'users',
    table: 'portal.users',
    batch: 1,
    ...(runId !== undefined ? { runId } : {}),
  };
  return client.workflow.start('backfill', { taskQueue: TASK_QUEUE, workflowId: backfillWorkflowId(env.instance, 'users'), args: [input] });
}
