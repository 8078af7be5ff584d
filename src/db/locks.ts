import type { PgClient } from './pool.js';

/**
 * Transaction-scoped advisory lock on a named thing (a row identity such as
 * "salesforce.account|portal_user_id__c|42"). Shared locks let readers that
 * only need the thing to stay put run together.
 */
export async function lockIdentity(client: PgClient, identity: string, shared = false): Promise<void> {
  const fn = shared ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await client.query(`SELECT ${fn}(hashtextextended($1, 0))`, [identity]);
}

export function rowIdentity(table: string, column: string, value: unknown): string {
  return `${table}|${column}|${String(value)}`;
}
