import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { forceRetrySignal, syncLogWorkflowId, type SyncLogInput } from '../contract/index.js';
import type { FerryConfig } from '../config.js';
import { logTable, type Pool } from '../db/index.js';
import { startSyncWorkflow } from '../dispatch/dispatcher.js';

export type RetryOutcome =
  | 'signalled' // a running workflow was told to look again now
  | 'restarted' // a failed log is pending again, with a fresh workflow run
  | 'started' // a pending log had no running workflow: one was started
  | 'not_found'
  | `nothing to do (${string})`;

/** The ids `retry --failed [--mapping NAME]` acts on. */
export function failedLogIds(pool: Pool, mapping?: string): Promise<number[]> {
  return logTable.failedIds(pool, mapping);
}

/**
 * `ferry retry`: signals forceRetry to a log's running workflow, or makes a
 * failed log pending again and starts a fresh run for it.
 */
export async function retryLog(pool: Pool, client: Client, config: FerryConfig, logId: number): Promise<RetryOutcome> {
  const log = await logTable.findLog(pool, logId);
  if (!log) return 'not_found';
  const input: SyncLogInput = { instance: config.instance, logId, mapping: log.mapping, table: log.table_name };
  if (log.status === 'failed') {
    await logTable.resetFailed(pool, [logId]);
    await startSyncWorkflow(client, config, input);
    return 'restarted';
  }
  if (log.status !== 'pending') return `nothing to do (${log.status})`;
  try {
    const handle = client.workflow.getHandle(syncLogWorkflowId(config.instance, logId));
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') {
      await handle.signal(forceRetrySignal);
      return 'signalled';
    }
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  // Pending but nothing carries it (terminated, or never dispatched): carry it now.
  return (await startSyncWorkflow(client, config, input)) === 'started' ? 'started' : 'signalled';
}
