// Signals and queries of the syncLog workflow.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { WaitedParent } from './sync-types.js';

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
  waitingFor?: WaitedParent;
  /** ISO time of the next look while waiting for a parent. */
  nextAttemptAt?: string;
  error?: string;
}

/** Query `state`: where the workflow is. */
export const stateQuery = defineQuery<SyncState>('state');
