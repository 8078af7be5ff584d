// The one entry the worker bundles.
export { syncBatch } from './sync-batch.js';
export { backfill } from './backfill.js';
export { syncLog } from './sync-log.js';
