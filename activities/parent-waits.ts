// Rows waiting for their parents: a chain that comes back to the row asking
// is a loop of rows that reference each other and can never sync. The chain
// itself is read from the log table (logTable.waitChain).
import type { WaitLink } from '../src/contract/index.js';
import { lockIdentity, type PgClient } from '../src/db/index.js';

/**
 * Serializes the step "look up the chain, then record that this log waits":
 * two rows that wait for each other, carried at the same moment, would each
 * miss the other's uncommitted wait. Held to the end of the transaction, and
 * only on the waiting path.
 */
export function lockParentWaits(client: PgClient): Promise<void> {
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
