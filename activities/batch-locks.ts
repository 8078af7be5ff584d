import { lockIdentities, type PgClient } from '../src/db/index.js';

/**
 * The row locks a batch holds, so each is taken once: many in one statement,
 * in one order (lockStatement), so batches never deadlock each other.
 */
export class HeldLocks {
  private readonly held = new Set<string>();

  constructor(private readonly client: PgClient) {}

  /** Whether this lock (or, for a shared one, a stronger or equal one) is held already. */
  has(identity: string, shared = false): boolean {
    return this.held.has(identity) || (shared && this.held.has(`${identity}|shared`));
  }

  async take(identities: readonly string[], shared: boolean): Promise<void> {
    const todo = [...new Set(identities)].filter((i) => !this.has(i, shared));
    await lockIdentities(this.client, todo, shared);
    for (const i of todo) this.held.add(shared ? `${i}|shared` : i);
  }
}
