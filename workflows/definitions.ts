// The Temporal surface of Ferry: names that the worker, the CLI and operators
// share. Safe to import outside a workflow (definitions only, no I/O).
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { MissingParent, SyncLogInput } from '../activities/types.js';

export const WORKFLOW_TYPE = 'syncLog';

export function workflowIdFor(logId: number): string {
  return `ferry-log-${logId}`;
}

export const BATCH_WORKFLOW_TYPE = 'syncBatch';

/** A batch is named by the first and last log it carries. */
export function syncBatchWorkflowId(first: number, last: number): string {
  return `ferry-batch-${first}-${last}`;
}

/** A LIKE pattern matching every syncBatchWorkflowId, for SQL that asks whether a batch carries a log. */
export const SYNC_BATCH_ID_PATTERN = syncBatchWorkflowId(0, 0).replace(/0-0$/, '%');

/** The task queue of batch chunks: their own worker slots, so single syncs never queue behind a burst. */
export function batchTaskQueue(taskQueue: string): string {
  return `${taskQueue}-batch`;
}

/** Wake a workflow that waits for a parent and look again, now. */
export const forceRetrySignal = defineSignal('forceRetry');
/** Sent by a parent's workflow to the children waiting on it, when it is done. */
export const parentSyncedSignal = defineSignal('parentSynced');

export type SyncStateName = 'syncing' | 'waiting_parent' | 'synced' | 'skipped' | 'failed';

export interface SyncState {
  state: SyncStateName;
  logId: number;
  mapping: string;
  table: string;
  /** Attempts recorded on the log row. */
  attempts: number;
  waitingFor?: MissingParent;
  /** ISO time of the next look while waiting for a parent. */
  nextAttemptAt?: string;
  error?: string;
}

/** Query `state`: where the workflow is. */
export const stateQuery = defineQuery<SyncState>('state');

// Search attributes: ids and names only, never row data (they are stored unencrypted).
export const FerryMapping = defineSearchAttributeKey('FerryMapping', SearchAttributeType.KEYWORD);
export const FerryTable = defineSearchAttributeKey('FerryTable', SearchAttributeType.KEYWORD);
export const FerryState = defineSearchAttributeKey('FerryState', SearchAttributeType.KEYWORD);
export const FerryLogId = defineSearchAttributeKey('FerryLogId', SearchAttributeType.INT);
export const SEARCH_ATTRIBUTES = [FerryMapping, FerryTable, FerryState, FerryLogId];

/** The attributes a syncLog workflow starts with. */
export function startSearchAttributes(input: SyncLogInput): SearchAttributePair[] {
  return [
    { key: FerryMapping, value: input.mapping },
    { key: FerryTable, value: input.table },
    { key: FerryLogId, value: input.logId },
    { key: FerryState, value: 'syncing' },
  ];
}
