import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  proxyLocalActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import {
  backoffDelay,
  DATA_FAILURES,
  FerryState,
  forceRetrySignal,
  parentNeverCame,
  parentSyncedSignal,
  startSearchAttributes,
  stateQuery,
  SYNC_FAILED,
  syncLogSummary,
  syncLogWorkflowId,
  type FinalStatus,
  type WaitedParent,
  type SyncActivities,
  type SyncLogInput,
  type SyncState,
  type SyncStateName,
} from '../src/contract/index.js';

// Local activities: each step is a short database transaction, and running it
// inside the workflow task keeps a sync to one task and a handful of history
// events. Transient errors (database down, deadlock) retry with backoff for as
// long as it takes; data errors are non-retryable and fail the log once.
const { applyChange, markFailed } = proxyLocalActivities<SyncActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
});

export interface SyncLogResult {
  status: FinalStatus;
  detail: string;
}

/** Carries one DatabaseTriggerLog row to its target. Workflow id: syncLogWorkflowId(instance, logId). */
export async function syncLog(input: SyncLogInput): Promise<SyncLogResult> {
  const view: SyncState = { state: 'syncing', logId: input.logId, mapping: input.mapping, table: input.table, attempts: 0 };
  // A counter, not a flag: a wake-up that lands while an attempt runs must
  // still cut the following wait short.
  let wakeUps = 0;
  setHandler(stateQuery, () => view);
  setHandler(forceRetrySignal, () => void wakeUps++);
  setHandler(parentSyncedSignal, () => void wakeUps++);
  const parentsStarted = new Set<number>();

  for (;;) {
    const seen = wakeUps;
    let result;
    try {
      result = await applyChange(input);
    } catch (err) {
      const message = dataFailureMessage(err);
      if (message === undefined) throw err;
      return fail(input, view, message, true);
    }

    if (result.status !== 'waiting_parent') {
      if (result.status === 'failed') view.error = result.detail;
      setState(view, result.status);
      await wakeWaiters(input.instance, result.waiters);
      if (result.status === 'failed') throw ApplicationFailure.nonRetryable(result.detail, SYNC_FAILED);
      return { status: result.status, detail: result.detail };
    }

    const { parent, attempts, policy } = result;
    view.attempts = attempts;
    view.waitingFor = parent;
    setState(view, 'waiting_parent');
    // The parent has a change of its own on the way: carry it first, as a
    // child workflow under the parent log's own id, so it is never synced twice.
    if (parent.logId !== null && !parentsStarted.has(parent.logId)) {
      parentsStarted.add(parent.logId);
      if (await syncParent(input.instance, parent, () => wakeUps > seen)) continue;
    }
    if (attempts >= policy.maximumAttempts) {
      // History gets the message without the parent's key; the log row gets it with (markFailed).
      return fail(input, view, parentNeverCame(input.mapping, parent, attempts), false, { ...parent, attempts });
    }
    const delay = backoffDelay(policy, attempts);
    view.nextAttemptAt = new Date(new Date().getTime() + delay).toISOString();
    // Durable timer; cut short by forceRetry or by the parent's workflow.
    await condition(() => wakeUps > seen, delay);
    view.nextAttemptAt = undefined;
    setState(view, 'syncing');
  }
}

/**
 * Runs the parent log's workflow as a child and waits for it, or for a
 * wake-up (forceRetry: the parent may have reached the target another way).
 * Returns false when it cannot help now: that workflow already runs on its
 * own (it wakes us when it is done, since our log is recorded as its waiter),
 * or it failed.
 */
async function syncParent(instance: string, parent: WaitedParent, woken: () => boolean): Promise<boolean> {
  const input: SyncLogInput = { instance, logId: parent.logId!, mapping: parent.mapping, table: parent.table };
  let child;
  try {
    child = await startChild(syncLog, {
      workflowId: syncLogWorkflowId(instance, input.logId),
      args: [input],
      typedSearchAttributes: startSearchAttributes(input),
      staticSummary: syncLogSummary({ mapping: parent.mapping, logId: input.logId }),
      // The parent row's sync stands on its own: it must finish even if this
      // child's workflow is terminated.
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
  let outcome: 'synced' | 'failed' | undefined;
  void child.result().then(
    () => (outcome = 'synced'),
    () => (outcome = 'failed'), // its failure is its own log's; this child waits on
  );
  await condition(() => outcome !== undefined || woken());
  return outcome !== 'failed';
}

/**
 * Rows a carrier (a batch, a backfill chunk) could not finish, because they
 * must wait for a parent or they failed, each get their own syncLog, exactly
 * as a captured change would: the Web UI, `ferry status` and `ferry retry`
 * find them there. Started all at once (one workflow task issues every start)
 * and abandoned, so they outlive the carrier; one already running is left be.
 */
export async function handOffToSyncLogs(logs: SyncLogInput[]): Promise<void> {
  await Promise.all(
    logs.map((log) =>
      startChild(syncLog, {
        workflowId: syncLogWorkflowId(log.instance, log.logId),
        args: [log],
        typedSearchAttributes: startSearchAttributes(log),
        staticSummary: syncLogSummary(log),
        parentClosePolicy: ParentClosePolicy.ABANDON,
      }).catch((err) => {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }),
    ),
  );
}

export async function wakeWaiters(instance: string, logIds: number[]): Promise<void> {
  await Promise.all(
    logIds.map((id) =>
      // A waiter may have finished meanwhile; then there is no one to wake.
      getExternalWorkflowHandle(syncLogWorkflowId(instance, id))
        .signal(parentSyncedSignal)
        .catch(() => undefined),
    ),
  );
}

async function fail(
  input: SyncLogInput,
  view: SyncState,
  message: string,
  attempted: boolean,
  parent?: { mapping: string; column: string; attempts: number },
): Promise<never> {
  await markFailed(input, message, attempted, parent && { mapping: parent.mapping, column: parent.column, attempts: parent.attempts });
  view.error = message;
  setState(view, 'failed');
  throw ApplicationFailure.nonRetryable(message, SYNC_FAILED);
}

/** The message of a failure that no retry can fix (bad data, bad transform), else undefined. */
function dataFailureMessage(err: unknown): string | undefined {
  // A local activity's failure may arrive wrapped in ActivityFailure or bare.
  const failure = err instanceof ActivityFailure ? err.cause : err;
  if (!(failure instanceof ApplicationFailure)) return undefined;
  return failure.type && DATA_FAILURES.includes(failure.type) ? failure.message : undefined;
}

function setState(view: SyncState, state: SyncStateName): void {
  if (view.state === state) return;
  view.state = state;
  upsertSearchAttributes([{ key: FerryState, value: state }]);
}
