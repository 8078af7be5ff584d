import { Context } from '@temporalio/activity';
import { parentNeverCame, type BatchResult, type SyncActivities, type SyncBatchInput, type SyncLogInput } from '../src/contract/index.js';
import { logTable } from '../src/db/index.js';
import { createApplyChange, type ApplyDeps } from './apply-change.js';
import { createCarryBatch } from './carry-batch.js';
import { createBackfillActivities } from './backfill.js';
import { whileHeartbeating } from './heartbeat.js';
import { checkInstance } from './instance.js';

/**
 * The worker's activities, built from their dependencies (pool, config) so a
 * test or an embedding app can hand in its own.
 */
export function createActivities(deps: ApplyDeps) {
  const applyChange = createApplyChange(deps);
  const carryAsBatch = createCarryBatch(deps);
  return {
    applyChange,
    ...createBackfillActivities({ ...deps, carryAsBatch }),

    async carryBatch(input: SyncBatchInput, carrier: string): Promise<BatchResult> {
      checkInstance(deps.config, { ...input, logId: input.first, mapping: '', table: '' });
      return whileHeartbeating(() => carryAsBatch(input.logIds, carrier));
    },

    async markFailed(
      input: SyncLogInput,
      error: string,
      attempted: boolean,
      parent?: { mapping: string; column: string; attempts: number },
    ): Promise<void> {
      checkInstance(deps.config, input);
      // The key of the parent that never came is in the log row (waiting_key), not in the workflow.
      const key = parent && (await logTable.findLog(deps.pool, input.logId))?.waiting_key;
      if (parent && key) error = parentNeverCame(input.mapping, parent, parent.attempts, key);
      await logTable.finish(
        deps.pool,
        { ids: [input.logId] },
        {
          status: 'failed',
          error,
          countAttempt: attempted,
          workflowId: Context.current().info.workflowExecution?.workflowId,
        },
      );
    },
  } satisfies SyncActivities;
}

export type Activities = ReturnType<typeof createActivities>;
export type { ApplyDeps } from './apply-change.js';
