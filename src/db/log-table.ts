// ferry.database_trigger_log: every statement Ferry runs on it, one function
// per state change, typed against one LogRow, in src/db/log/ by job. Set-based
// where the batch lane needs it (many ids, many row keys). Names (workflow ids)
// come in as parameters, never spelled in SQL.
export * from './log/row.js';
export * from './log/dispatch.js';
export * from './log/final.js';
export * from './log/batch.js';
export * from './log/pending.js';
export * from './log/retry.js';
export * from './log/operating.js';
