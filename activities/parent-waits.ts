// Chains of rows waiting for their parents, read from the log table: a row's
// newest pending log, when it waits (waiting_mapping / waiting_key), names the
// next row up. A chain that comes back to the row asking is a loop of rows
// that reference each other and can never sync: found here, failed at once.
import type { Client, Pool } from '../src/db.js';
import { lockIdentity } from '../src/db.js';

/** A row up a waiting chain, with its newest pending log (null: none). */
export interface WaitLink {
  mapping: string;
  key: string;
  logId: number | null;
}

// Depth-first up the chain; a row met a second time is listed once more and
// ends the walk, so a loop shows closed.
const CHAIN = `
  WITH RECURSIVE chain (depth, mapping, key, seen) AS (
    SELECT 0, $1::text, $2::text, ARRAY[$1::text || '|' || $2::text]
    UNION ALL
    SELECT c.depth + 1, w.waiting_mapping, w.waiting_key, c.seen || (w.waiting_mapping || '|' || w.waiting_key)
      FROM chain c
      JOIN LATERAL (SELECT waiting_mapping, waiting_key FROM ferry.database_trigger_log
                     WHERE mapping = c.mapping AND row_key = c.key AND status = 'pending'
                     ORDER BY id DESC LIMIT 1) w ON w.waiting_key IS NOT NULL
     WHERE c.depth < $3 AND NOT (c.mapping || '|' || c.key = ANY (c.seen[1:c.depth]))
  )
  SELECT mapping, key,
         (SELECT max(id) FROM ferry.database_trigger_log l
           WHERE l.mapping = c.mapping AND l.row_key = c.key AND l.status = 'pending') AS "logId"
    FROM chain c ORDER BY depth`;

/**
 * The chain of waits from a row up: the row itself first, then the row its
 * newest pending log waits for, and so on, up to a row that waits for nothing
 * (or `limit` rows).
 */
export async function waitChain(db: Client | Pool, mapping: string, key: string, limit = 50): Promise<WaitLink[]> {
  return (await db.query<WaitLink>(CHAIN, [mapping, key, limit])).rows;
}

/**
 * Serializes the step "look up the chain, then record that this log waits":
 * two rows that wait for each other, carried at the same moment, would each
 * miss the other's uncommitted wait. Held to the end of the transaction, and
 * only on the waiting path.
 */
export function lockParentWaits(client: Client): Promise<void> {
  return lockIdentity(client, 'ferry|parent-waits');
}

/**
 * The loop through this row, when the chain up from its missing parent comes
 * back to it: [this row, parent, ..., this row]; else undefined.
 */
export function loopThrough(self: { mapping: string; key: string }, chain: WaitLink[]): WaitLink[] | undefined {
  const back = chain.findIndex((l) => l.mapping === self.mapping && l.key === self.key);
  return back < 0 ? undefined : [chain[back]!, ...chain.slice(0, back + 1)];
}

/** Fails the pending logs of a loop with one message; returns the ids it failed. */
export async function failLogs(client: Client, logIds: number[], error: string): Promise<number[]> {
  const { rows } = await client.query<{ id: number }>(
    `UPDATE ferry.database_trigger_log
        SET status = 'failed', error = $2, attempts = attempts + 1, synced_at = now(),
            waiting_mapping = NULL, waiting_key = NULL
      WHERE id = ANY ($1::bigint[]) AND status = 'pending'
      RETURNING id`,
    [logIds, error],
  );
  return rows.map((r) => r.id).sort((a, b) => a - b);
}
