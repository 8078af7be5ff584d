import type { FerryEvents } from '../events.js';
import type { Logger } from '../logger.js';

/**
 * The log lines about syncs, from FerryEvents. Every line about one sync
 * carries logId, mapping and workflowId, so `jq 'select(.logId == 42)'` (or a
 * log search on workflowId) shows a sync's whole story.
 */
export function logEvents(events: FerryEvents, logger: Logger): void {
  events.on('syncDone', ({ logId, mapping, workflowId, status, detail, already, latencyMs }) => {
    const fields = { logId, mapping, workflowId, status, detail, already, latencyMs };
    if (status === 'failed') logger.error(fields, `log ${logId} failed: ${detail}`);
    else logger.info(fields, `log ${logId} ${status}`);
  });
  events.on('syncWaiting', ({ logId, mapping, workflowId, parent, attempts }) => {
    logger.info(
      { logId, mapping, workflowId, attempts, parentMapping: parent.mapping, parentLogId: parent.logId },
      `log ${logId} waits for its parent in ${parent.mapping} (column ${parent.column}; ferry logs ${logId} names it)`,
    );
  });
  events.on('syncError', ({ logId, mapping, workflowId, activity, attempt, retryable, error }) => {
    const fields = { logId, mapping, workflowId, activity, attempt, retryable, err: error };
    if (retryable) logger.warn(fields, `log ${logId}: ${activity} failed, Temporal retries it`);
    else logger.error(fields, `log ${logId}: ${activity} failed for good`);
  });
  events.on('chunkDone', ({ workflowId, activity, byMapping, leftover }) => {
    const counts = Object.entries(byMapping).map(([m, n]) => `${m} ${n.synced} synced, ${n.skipped} skipped`);
    logger.info(
      { workflowId, activity, byMapping, leftover },
      `chunk carried: ${counts.join('; ') || 'nothing'}${leftover ? `; ${leftover} left for their own syncLog` : ''}`,
    );
  });
  events.on('dispatched', ({ count, carrier }) => logger.debug({ count, carrier }, 'workflows started'));
}
