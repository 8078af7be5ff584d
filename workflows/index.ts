// The one entry the worker bundles.
export { backfill } from './backfill.js';
export { syncLog } from './sync-log.js';
