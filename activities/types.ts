// Shapes that cross the activity/workflow boundary. Workflows import these as
// types only, so no activity code reaches the workflow bundle.
import type { BackoffPolicy } from '../workflows/backoff.js';
import type { WaitLink } from './parent-waits.js';

/** What a syncLog workflow is started with: ids and names, never row data. */
export interface SyncLogInput {
  logId: number;
  mapping: string;
  table: string;
}

/** The parent a child row is waiting for. */
export interface MissingParent {
  mapping: string;
  /** The parent mapping's source table. */
  table: string;
  /** The child's column that holds the parent's key. */
  column: string;
  key: string;
  /** A pending log of that parent row, when there is one. */
  logId: number | null;
  /**
   * The parent's own wait, when it waits too: the row its pending log waits
   * for, then that row's wait, and so on up the chain.
   */
  chain?: WaitLink[];
}

export type FinalStatus = 'synced' | 'skipped' | 'failed';

export type ApplyResult =
  | {
      status: FinalStatus;
      /** What happened, in a few words ("upserted", "superseded by 42", ...). */
      detail: string;
      /** The log was already final when this run looked (a second dispatch). */
      already: boolean;
      /** Logs waiting for this row as their parent: their workflows get a wake-up. */
      waiters: number[];
      /** When the change was captured (ISO), for commit-to-synced latency. */
      createdAt?: string;
    }
  | {
      status: 'waiting_parent';
      parent: MissingParent;
      /** Attempts so far, including this one. */
      attempts: number;
      /** `missingParent` from the config as it is now. */
      policy: BackoffPolicy;
    };

export const TRANSFORM_ERROR = 'TransformError';
export const TARGET_WRITE_ERROR = 'TargetWriteError';
