// The one place that names Ferry's workflows and NOTIFY channels. Everything
// else (dispatcher, child workflows, wake-ups, retry, status links, SQL that
// needs a name) takes the name from here, so both sides always agree.

/** Workflow type of the per-log sync. */
export const SYNC_LOG_WORKFLOW = 'syncLog';

/**
 * The workflow that carries one log: `ferry-<instance>-log-<logId>`. The
 * instance keeps two deployments that share a namespace apart (every
 * database's log ids start at 1); the log id makes a second start a no-op.
 */
export function syncLogWorkflowId(instance: string, logId: number | '<logId>'): string {
  return `ferry-${instance}-log-${logId}`;
}

/** The workflow that carries a backlog of logs `first`..`last` at once. */
export function syncBatchWorkflowId(instance: string, first: number, last: number): string {
  return `ferry-${instance}-batch-${first}-${last}`;
}

/** Workflow type of a backlog's batch. */
export const SYNC_BATCH_WORKFLOW = 'syncBatch';

/** A LIKE pattern matching every syncBatchWorkflowId of an instance, for SQL that asks whether a batch carries a log. */
export function syncBatchIdPattern(instance: string): string {
  return syncBatchWorkflowId(instance, 0, 0).replace(/0-0$/, '%');
}

/** The task queue of batch chunks: their own worker slots, so single syncs never queue behind a burst. */
export function batchTaskQueue(taskQueue: string): string {
  return `${taskQueue}-batch`;
}

/** The workflow that backfills a mapping's existing rows. */
export function backfillWorkflowId(instance: string, mapping: string): string {
  return `ferry-${instance}-backfill-${mapping}`;
}

/** The NOTIFY channel a source schema's trigger wakes the listener on. */
export function channelFor(schema: string): string {
  return `ferry_${schema}`;
}

/**
 * The static summary a syncLog workflow starts with, so the Web UI's list says
 * what each workflow carries without a click: `users_to_accounts UPDATE log 42`.
 * Names and the log id only: a key that looks like an id may be a card or
 * phone number, and summaries are stored unencrypted.
 */
export function syncLogSummary(log: { mapping: string; op?: string; logId: number }): string {
  return [log.mapping, log.op, `log ${log.logId}`].filter(Boolean).join(' ');
}

/**
 * The prefix of the transactional logical message in each of Ferry's write
 * transactions (its content: the tables the written values came from), by
 * which WAL capture recognises Ferry's own writes (no echo).
 */
export const ORIGIN_MESSAGE_PREFIX = 'ferry.origin';
