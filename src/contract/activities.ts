// The activities a workflow may call, as an interface: workflows/ proxies
// these without importing activities/ (not even as types), and
// activities/createActivities is checked against it.
import type { ApplyResult, BatchResult, SyncBatchInput, SyncLogInput } from './sync-types.js';

export interface SyncActivities {
  /** Carries one log in one transaction; see activities/apply-change.ts. */
  applyChange(input: SyncLogInput): Promise<ApplyResult>;
  /**
   * Fails a pending log with a message. `attempted`: this failure is an
   * attempt of its own; a parent that never came has counted its attempts already.
   * `parent`: the required parent never came; the log row's message names its key,
   * which the workflow does not know (parentNeverCame).
   */
  markFailed(input: SyncLogInput, error: string, attempted: boolean, parent?: { mapping: string; column: string; attempts: number }): Promise<void>;
  /** A syncBatch's logs, carried in one transaction (activities/carry-batch.ts); `carrier` is the batch's workflow id. */
  carryBatch(input: SyncBatchInput, carrier: string): Promise<BatchResult>;
}
