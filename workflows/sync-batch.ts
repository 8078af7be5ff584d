import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import { batchTaskQueue, type SyncActivities, type SyncBatchInput } from '../src/contract/index.js';
import { handOffToSyncLogs, wakeWaiters } from './sync-log.js';

export interface SyncBatchResult {
  synced: number;
  skipped: number;
  /** Logs that left the batch for their own syncLog (waiting for a parent, or failed). */
  leftover: number;
}

/**
 * Carries a backlog's logs in one activity (one transaction, set-based), so a
 * burst costs a handful of history events instead of seven per change. A log
 * that must wait for a parent or fails gets its own syncLog (handOffToSyncLogs):
 * it outlives the batch and looks like any stuck sync.
 */
export async function syncBatch(input: SyncBatchInput): Promise<SyncBatchResult> {
  const { taskQueue } = workflowInfo();
  const { carryBatch } = proxyActivities<SyncActivities>({
    // Chunks run on their own task queue and worker slots (worker.ts).
    taskQueue: batchTaskQueue(taskQueue),
    startToCloseTimeout: '5m',
    // The chunk heartbeats on a timer (activities/heartbeat.ts): a worker
    // killed mid-chunk is noticed in seconds, and the chunk runs again elsewhere.
    heartbeatTimeout: '10s',
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
  });
  const result = await carryBatch(input, workflowInfo().workflowId);
  await wakeWaiters(input.instance, result.waiters);
  await handOffToSyncLogs(result.leftover);
  return { synced: result.synced, skipped: result.skipped, leftover: result.leftover.length };
}
