import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import { batchTaskQueue, startSearchAttributes, syncLogWorkflowId, type SyncActivities, type SyncBatchInput } from '../src/contract/index.js';
import { syncLog, wakeWaiters } from './sync-log.js';

export interface SyncBatchResult {
  synced: number;
  skipped: number;
  /** Logs that left the batch for their own syncLog (waiting for a parent, or failed). */
  leftover: number;
}

/**
 * Carries a backlog's logs in one activity (one transaction, set-based), so a
 * burst costs a handful of history events instead of seven per change. A log
 * that must wait for a parent or fails gets its own syncLog, started here as
 * an abandoned child: it outlives the batch and looks like any stuck sync.
 */
export async function syncBatch(input: SyncBatchInput): Promise<SyncBatchResult> {
  const { taskQueue } = workflowInfo();
  const { carryBatch } = proxyActivities<SyncActivities>({
    // Chunks run on their own task queue and worker slots (worker.ts).
    taskQueue: batchTaskQueue(taskQueue),
    startToCloseTimeout: '5m',
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
  });
  const result = await carryBatch(input, workflowInfo().workflowId);
  await wakeWaiters(input.instance, result.waiters);
  // All at once: one workflow task issues every start.
  await Promise.all(
    result.leftover.map((log) =>
      startChild(syncLog, {
        workflowId: syncLogWorkflowId(log.instance, log.logId),
        args: [log],
        typedSearchAttributes: startSearchAttributes(log),
        parentClosePolicy: ParentClosePolicy.ABANDON,
      }).catch((err) => {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }),
    ),
  );
  return { synced: result.synced, skipped: result.skipped, leftover: result.leftover.length };
}
