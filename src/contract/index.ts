// The contract between workflows/ and activities/ (and what src/ wires with):
// definitions only, no I/O, safe inside the workflow bundle. Imports go one
// way: workflows/ -> contract <- activities/ <- src/.
export * from './activities.js';
export * from './backfill.js';
export * from './backoff.js';
export * from './errors.js';
export * from './messages.js';
export * from './names.js';
export * from './search-attributes.js';
export * from './sync-types.js';
