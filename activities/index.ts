import { createApplyChange, type ApplyDeps } from './apply-change.js';
import { createBackfillActivities } from './backfill.js';
import type { SyncLogInput } from './types.js';

/**
 * The worker's activities, built from their dependencies (pool, config) so a
 * test or an embedding app can hand in its own.
 */
export function createActivities(deps: ApplyDeps) {
  const applyChange = createApplyChange(deps);
  return {
    applyChange,
    ...createBackfillActivities({ ...deps, applyChange }),

    /**
     * Fails a pending log with a message. `attempted`: this failure is an
     * attempt of its own (a transform that threw rolled back its attempt's
     * bookkeeping); a parent that never came has counted its attempts already.
     */
    async markFailed({ logId }: SyncLogInput, error: string, attempted: boolean): Promise<void> {
      await deps.pool.query(
        `UPDATE ferry.database_trigger_log
            SET status = 'failed', error = $2, attempts = attempts + $3::int, synced_at = now(),
                waiting_mapping = NULL, waiting_key = NULL
          WHERE id = $1 AND status = 'pending'`,
        [logId, error, attempted ? 1 : 0],
      );
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ApplyDeps } from './apply-change.js';
