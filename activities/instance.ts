import { ApplicationFailure } from '@temporalio/activity';
import { WRONG_INSTANCE, type SyncLogInput } from '../src/contract/index.js';
import type { FerryConfig } from '../src/config.js';

/**
 * A log of another deployment (same namespace and task queue, another
 * database) must never be carried here: its id means another row in this
 * database. Refused before anything is read or written.
 */
export function checkInstance(config: FerryConfig, input: SyncLogInput): void {
  if (input.instance !== config.instance)
    throw ApplicationFailure.nonRetryable(
      `log ${input.logId} belongs to instance "${input.instance}", but this worker serves instance "${config.instance}": ` +
        `nothing written (two deployments share a task queue?)`,
      WRONG_INSTANCE,
    );
}
