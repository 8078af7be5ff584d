// The one entry the worker bundles.
export { syncLog } from './sync-log.js';
