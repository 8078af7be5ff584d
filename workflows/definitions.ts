// The Temporal surface of Ferry: names that the worker, the CLI and operators
// share. Safe to import outside a workflow (definitions only, no I/O).
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { BackfillProgress } from '../activities/backfill-types.js';
import type { MissingParent, SyncLogInput } from '../activities/types.js';

export const WORKFLOW_TYPE = 'syncLog';

export function workflowIdFor(logId: number): string {
  return `ferry-log-${logId}`;
}

export const BACKFILL_WORKFLOW_TYPE = 'backfill';

/** One backfill per mapping at a time: a second start attaches to the running one. */
export function backfillWorkflowId(mapping: string): string {
  return `ferry-backfill-${mapping}`;
}

/** Query `progress` of a backfill: rows done, rows total (estimated), rate, cursor. */
export const progressQuery = defineQuery<BackfillProgress>('progress');

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
