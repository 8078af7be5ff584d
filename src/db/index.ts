// Postgres helpers: pools and transactions, advisory locks, the log table and optional waits.
export * from './locks.js';
export * as logTable from './log-table.js';
export * as optionalWaits from './optional-waits.js';
export type { LogRow, LogOp, LogStatus } from './log-table.js';
export * from './pool.js';
export * as backfillRuns from './backfill-runs.js';
export * as pausedMappings from './paused-mappings.js';
export * as backfillInputs from './backfill-inputs.js';
