// Two-way conflicts in a set order. The property test (convergence.int) found
// pairs left apart with every log final, in orders that Temporal only
// sometimes runs; here the carries are called one after the other, on a
// single sync and on a batch's chunk, so each order is tested every time.
import { describe, expect, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import { CAPTURE_MODES, captured, LANES, logs, type Lane } from './support/harness.js';
import { carryNow, useMigratedDatabase } from './support/carry-now.js';

describe.each(CAPTURE_MODES)('%s capture', (mode) => {
  // The example's pair, 'latest' wins: no Ferry runs, the test carries each log itself.
  const ctx = useMigratedDatabase(import.meta.url, exampleSubset('users_to_accounts', 'accounts_to_users'), mode);
  const q = ctx.q;

  /** Carries one log now, as a syncLog does or as a batch's chunk does. */
  async function carry(lane: Lane, logId: number): Promise<void> {
    await carryNow(ctx, lane, [logId], lane === 'single' ? 'test-single' : `test-batch-${logId}`);
  }

  /** The newest log of a mapping. */
  async function last(mapping: string): Promise<number> {
    await captured(ctx.db.pool);
    return (await logs(ctx.db.pool, mapping)).at(-1)!.id;
  }

  /** A user and its account, both "Pair"/"cy", carried; returns the user's id and the account's. */
  async function pair(lane: Lane): Promise<{ userId: number; accountId: number }> {
    const [{ id: userId }] = await q(`INSERT INTO portal.users (full_name, email) VALUES ('Pair', 'cy') RETURNING id`);
    await carry(lane, await last('users_to_accounts'));
    const [{ id: accountId }] = await q('SELECT id FROM salesforce.account WHERE portal_user_id__c = $1', [String(userId)]);
    return { userId, accountId };
  }

  /** The email on each side of a pair. */
  async function emails(userId: number, accountId: number): Promise<{ portal: string; salesforce: string }> {
    const [{ portal, salesforce }] = await q(
      'SELECT (SELECT email FROM portal.users WHERE id = $1) AS portal, (SELECT email__c FROM salesforce.account WHERE id = $2) AS salesforce',
      [userId, accountId],
    );
    return { portal, salesforce };
  }

  const setEmail = {
    portal: (userId: number, email: string) => q('UPDATE portal.users SET email = $2 WHERE id = $1', [userId, email]),
    salesforce: (accountId: number, email: string) => q('UPDATE salesforce.account SET email__c = $2 WHERE id = $1', [accountId, email]),
  };

  describe.each(LANES)('%s lane', (lane) => {
    it('a change that lost to the other side is written over by the winner, even when the winner changed back', async () => {
      const { userId, accountId } = await pair(lane);
      await setEmail.salesforce(accountId, 'eve');
      const loser = await last('accounts_to_users');
      await setEmail.portal(userId, 'fay'); // captured last: wins
      await carry(lane, loser);
      expect((await logs(ctx.db.pool, 'accounts_to_users')).at(-1)).toMatchObject({
        status: 'skipped',
        error: expect.stringMatching(/^conflict: lost to /),
      });
      // Before the winner is carried, the portal goes back to what it was.
      await setEmail.portal(userId, 'cy');
      await carry(lane, await last('users_to_accounts'));
      expect(await emails(userId, accountId)).toEqual({ portal: 'cy', salesforce: 'cy' });
    });

    it.each(['salesforce first', 'portal first'])(
      'changes that cancel out are no rival: the other side wins, whichever is carried first (%s)',
      async (order) => {
        const { userId, accountId } = await pair(lane);
        await setEmail.portal(userId, 'fay');
        await setEmail.salesforce(accountId, 'eve');
        await setEmail.portal(userId, 'cy'); // portal: cy -> fay -> cy, captured last
        const portal = await last('users_to_accounts');
        const salesforce = await last('accounts_to_users');
        for (const id of order === 'salesforce first' ? [salesforce, portal] : [portal, salesforce]) await carry(lane, id);
        expect(await emails(userId, accountId)).toEqual({ portal: 'eve', salesforce: 'eve' });
      },
    );
  });
});
