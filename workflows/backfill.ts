import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  FerryState,
  progressQuery,
  type BackfillActivities,
  type BackfillInput,
  type BackfillProgress,
  type ChunkResult,
} from '../src/contract/index.js';
import { handOffToSyncLogs, wakeWaiters } from './sync-log.js';

// Regular activities, one per chunk: a chunk shows in the Web UI while it
// runs, and a worker killed mid-chunk is noticed by the heartbeat timeout and
// the chunk runs again elsewhere (a chunk is safe to repeat).
const { countBackfillRows, backfillChunk, removeOrphans } = proxyActivities<BackfillActivities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});
// A local activity: one short write, a marker in history rather than three events.
const { recordBackfill } = proxyLocalActivities<BackfillActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

// Continue-as-new after this many chunks (or sooner when Temporal suggests it):
// the history of a 10-million-row backfill stays a few hundred events long.
const CHUNKS_PER_RUN = 100;

/**
 * Carries the rows of one mapping's source table that exist now: a keyset
 * walk in chunks of `batch` rows, each chunk carried under the rules of any
 * change. Workflow id: ferry-<instance>-backfill-<mapping>; query `progress`.
 */
export async function backfill(input: BackfillInput): Promise<BackfillProgress> {
  const now = () => new Date().toISOString();
  const progress: BackfillProgress = input.progress ?? {
    mapping: input.mapping,
    state: 'counting',
    rowsDone: 0,
    rowsTotal: 0,
    carried: 0,
    skipped: 0,
    handedOff: 0,
    orphansRemoved: 0,
    rate: 0,
    cursor: null,
    startedAt: now(),
    updatedAt: now(),
  };
  setHandler(progressQuery, () => progress);
  const { workflowId } = workflowInfo();
  // A run with runId reads its --where, keys and cursor from ferry.backfill_inputs;
  // one started before that table carried them in its input (the same commands, in order).
  const { runId } = input;
  const save = (state?: BackfillProgress['state'] | 'failed') => recordBackfill(workflowId, progress, state, runId);
  try {
    if (progress.state === 'counting') {
      await save();
      progress.rowsTotal = await countBackfillRows(
        runId !== undefined ? { mapping: input.mapping, runId } : { mapping: input.mapping, where: input.where, keys: input.keys },
      );
      progress.state = 'running';
      await save();
    }
    for (let chunks = 0; ; chunks++) {
      if (chunks >= CHUNKS_PER_RUN || workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof backfill>({ ...input, progress });
      }
      const keys = runId === undefined ? input.keys && sliceFrom(input.keys, progress.cursor, input.batch) : undefined;
      if (keys && keys.length === 0) break;
      const chunk = progress.chunks ?? 0;
      const result = await backfillChunk({
        instance: input.instance,
        mapping: input.mapping,
        batch: input.batch,
        ...(runId !== undefined ? { runId, chunk } : { where: input.where, keys }),
        after: runId !== undefined ? null : progress.cursor,
        workflowId: workflowInfo().workflowId,
      });
      // A worker older than ferry.backfill_inputs ignores the run id: stop rather than walk the table from its start again and again.
      if (runId !== undefined && result.done === undefined)
        throw ApplicationFailure.nonRetryable(
          'a backfill run id reached a worker older than ferry.backfill_inputs: deploy the workers first',
          'OldWorker',
        );
      record(progress, result, now());
      if (keys) progress.cursor = String(Number(progress.cursor ?? 0) + keys.length);
      if (runId !== undefined) progress.chunks = chunk + 1;
      await save();
      await handOffToSyncLogs(result.handOff);
      await wakeWaiters(input.instance, result.waiters);
      if (runId !== undefined ? result.done : !keys && result.read < input.batch) break;
    }
    if (runId !== undefined) progress.orphansRemoved = await removeOrphans({ mapping: input.mapping, runId });
    else if (input.orphans?.length) progress.orphansRemoved = await removeOrphans({ mapping: input.mapping, keys: input.orphans });
    progress.state = 'done';
    upsertSearchAttributes([{ key: FerryState, value: 'done' }]);
    await save();
    return progress;
  } catch (err) {
    if (isCancellation(err)) {
      progress.state = 'cancelled';
      upsertSearchAttributes([{ key: FerryState, value: 'cancelled' }]);
      // A cancelled workflow's scope cancels new activities: this one must still run.
      await CancellationScope.nonCancellable(() => save());
      throw err instanceof CancelledFailure ? err : new CancelledFailure('backfill cancelled');
    }
    // continueAsNew ends this run by throwing; the next run goes on.
    if (!(err instanceof ContinueAsNew)) await save('failed');
    throw err;
  }
}

function record(progress: BackfillProgress, result: ChunkResult, at: string): void {
  progress.rowsDone += result.read;
  progress.carried += result.carried;
  progress.skipped += result.skipped;
  progress.handedOff += result.handOff.length;
  if (result.lastKey !== null) progress.cursor = result.lastKey;
  progress.rowsTotal = Math.max(progress.rowsTotal, progress.rowsDone);
  progress.updatedAt = at;
  const seconds = (Date.parse(at) - Date.parse(progress.startedAt)) / 1000;
  progress.rate = seconds > 0 ? Math.round(progress.rowsDone / seconds) : 0;
}

/** Repair mode: the next slice of keys; the cursor is how many were done. */
function sliceFrom(keys: string[], cursor: string | null, batch: number): string[] {
  const from = Number(cursor ?? 0);
  return keys.slice(from, from + batch);
}
