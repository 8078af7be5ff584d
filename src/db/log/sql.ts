// What every statement on ferry.database_trigger_log shares (src/db/log/).
export const LOG = 'ferry.database_trigger_log';

// Only captured changes supersede, rival or stand for a row's next state: a
// backfill log never makes a live change step aside (live changes win).
export const CHANGE = `kind = 'change'`;
