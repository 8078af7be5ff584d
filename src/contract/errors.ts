// ApplicationFailure types. The workflow tells a data failure (fails the log
// once) from trouble that retrying fixes by these names.

/** The mapping's transform threw or returned something unusable. */
export const TRANSFORM_ERROR = 'TransformError';
/** The row cannot be read or written as it is (SQLSTATE classes 21, 22, 23, 42, 54, P0, 0A; a statement that cannot be built). */
export const TARGET_WRITE_ERROR = 'TargetWriteError';
/** A backfill's --where is not one allowed expression over the source table's columns (src/bulk/where.ts). */
export const BAD_WHERE = 'BadWhere';
/** A sync that failed for good: the workflow's own failure. */
export const SYNC_FAILED = 'SyncFailed';
/** The log id does not exist in this database. */
export const UNKNOWN_LOG = 'UnknownLog';
/** A log of another deployment reached this worker: refused, nothing written. */
export const WRONG_INSTANCE = 'WrongInstance';

/** Failures that mean "this row cannot be carried": the log is marked failed with the message. */
export const DATA_FAILURES: readonly string[] = [TRANSFORM_ERROR, TARGET_WRITE_ERROR];

/** A backfill's run id names no row of ferry.backfill_inputs for its mapping, or a chunk out of step with it. */
export const BAD_BACKFILL_RUN = 'BadBackfillRun';
