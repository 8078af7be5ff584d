// Postgres helpers: pools and transactions, advisory locks, and the log table.
export * from './locks.js';
export * as logTable from './log-table.js';
export type { LogRow, LogOp, LogStatus } from './log-table.js';
export * from './pool.js';
