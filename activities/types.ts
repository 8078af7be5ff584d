// Shapes that cross the activity/workflow boundary. Workflows import these as
// types only, so no activity code reaches the workflow bundle.
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { BackoffPolicy } from '../workflows/backoff.js';

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

/** What a syncBatch carries: logs claimed under its workflow id, first and last by id. */
export interface SyncBatchInput {
  first: number;
  last: number;
  logIds: number[];
}

/** A chunk's outcome: counts, the logs that left it for their own syncLog, and the logs waiting for its rows. */
export interface ChunkResult {
  synced: number;
  skipped: number;
  leftover: SyncLogInput[];
  waiters: number[];
}

/** The message of a failure that no retry can fix (bad data, bad transform), else undefined. */
export function dataFailureMessage(err: unknown): string | undefined {
  // A local activity's failure may arrive wrapped in ActivityFailure or bare.
  const failure = err instanceof ActivityFailure ? err.cause : err;
  if (!(failure instanceof ApplicationFailure)) return undefined;
  return failure.type === TRANSFORM_ERROR || failure.type === TARGET_WRITE_ERROR ? failure.message : undefined;
}
