import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { forceRetrySignal, workflowIdFor } from '../workflows/definitions.js';
import type { FerryConfig } from './config.js';
import type { Pool } from './db.js';
import { startSyncWorkflow } from './dispatcher.js';

export type RetryOutcome =
  | 'signalled' // a running workflow was told to look again now
  | 'restarted' // a failed log is pending again, with a fresh workflow run
  | 'started' // a pending log had no running workflow: one was started
  | 'not_found'
  | `nothing to do (${string})`;

interface LogHead {
  id: number;
  status: string;
  mapping: string;
  table_name: string;
}

/** The ids `retry --failed [--mapping NAME]` acts on. */
export async function failedLogIds(pool: Pool, mapping?: string): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>(
    `SELECT id FROM ferry.database_trigger_log WHERE status = 'failed' AND ($1::text IS NULL OR mapping = $1) ORDER BY id`,
    [mapping ?? null],
  );
  return rows.map((r) => r.id);
}

/**
 * `ferry retry`: signals forceRetry to a log's running workflow, or makes a
 * failed log pending again and starts a fresh run for it.
 */
export async function retryLog(pool: Pool, client: Client, config: FerryConfig, logId: number): Promise<RetryOutcome> {
  const { rows } = await pool.query<LogHead>(
    'SELECT id, status, mapping, table_name FROM ferry.database_trigger_log WHERE id = $1',
    [logId],
  );
  const log = rows[0];
  if (!log) return 'not_found';
  const input = { logId, mapping: log.mapping, table: log.table_name };
  if (log.status === 'failed') {
    await pool.query(
      `UPDATE ferry.database_trigger_log
          SET status = 'pending', error = NULL, attempts = 0, synced_at = NULL, dispatched_at = now(),
              workflow_id = $2
        WHERE id = $1 AND status = 'failed'`,
      [logId, workflowIdFor(logId)],
    );
    await startSyncWorkflow(client, config, input);
    return 'restarted';
  }
  if (log.status !== 'pending') return `nothing to do (${log.status})`;
  try {
    const handle = client.workflow.getHandle(workflowIdFor(logId));
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
