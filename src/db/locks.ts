import type { PgClient } from './pool.js';

/**
 * Transaction-scoped advisory locks on named things (tableRowName of a row, such as
 * "salesforce.account|portal_user_id__c|42"), many in one statement. Shared
 * locks let readers that only need the thing to stay put run together.
 *
 * The one place that turns an identity into a lock key: the single-row lane
 * and the batch lane exclude each other only while they agree on it. Sorted,
 * so two lockers of overlapping sets take them in one order (no deadlock).
 */
export function lockStatement(identities: readonly string[], shared = false): { text: string; values: unknown[] } {
  const fn = shared ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  return { text: `SELECT count(${fn}(hashtextextended(i, 0))) FROM unnest($1::text[]) AS i`, values: [[...identities].sort()] };
}

export async function lockIdentities(client: PgClient, identities: readonly string[], shared = false): Promise<void> {
  if (!identities.length) return;
  await client.query(lockStatement(identities, shared));
}

export function lockIdentity(client: PgClient, identity: string, shared = false): Promise<void> {
  return lockIdentities(client, [identity], shared);
}

/** A row of a table by the value of a column, as one string: what row locks (and a batch's cache) are keyed by. */
export function tableRowName(table: string, column: string, value: unknown): string {
  return `${table}|${column}|${String(value)}`;
}
