// Optional parents on both lanes, many rows at once: a batch's chunk records
// what its rows wait for, and carries their children again, in a few
// statements per chunk (BatchIO's flush), with the outcome of one sync per row.
// The carries are called directly, in a set order: no Ferry runs.
import { describe, expect, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import { LANES, type Lane } from './support/harness.js';
import { carryNow, useMigratedDatabase } from './support/carry-now.js';

const ctx = useMigratedDatabase(import.meta.url, exampleSubset('users_to_accounts', 'contacts_to_contacts'));
const q = ctx.q;

/** Carries a mapping's pending logs: one sync each (single), or all in one chunk (batch). */
async function carryPending(lane: Lane, mapping: string): Promise<number> {
  const ids = (await q(`SELECT id FROM ferry.database_trigger_log WHERE mapping = $1 AND status = 'pending' ORDER BY id`, [mapping])).map((r) =>
    Number(r.id),
  );
  const result = await carryNow(ctx, lane, ids);
  expect(result?.leftover ?? []).toEqual([]);
  return ids.length;
}

const waits = (lo: number) =>
  q(`SELECT parent_key, row_key FROM ferry.optional_waits WHERE row_key::int BETWEEN $1 AND $1 + 999 ORDER BY row_key::int, parent_key`, [lo]);

describe.each(LANES)('%s lane', (lane) => {
  const base = lane === 'single' ? 10_000 : 20_000;
  const users = 40;
  // Even users name a contact that is not in Salesforce yet; odd ones name none.
  const contactOf = (i: number) => base + 500 + i;

  it('writes rows without their absent optional parents, remembers them, and carries them again once those parents are in', async () => {
    await q(
      `INSERT INTO portal.users (id, full_name, primary_contact_id)
       SELECT $1 + i, 'User ' || i, CASE WHEN i % 2 = 0 THEN $1 + 500 + i END FROM generate_series(1, $2) i`,
      [base, users],
    );
    expect(await carryPending(lane, 'users_to_accounts')).toBe(users);
    const accounts = await q(`SELECT primary_contact__c FROM salesforce.account WHERE portal_user_id__c::int BETWEEN $1 AND $1 + 999`, [base]);
    expect(accounts).toHaveLength(users);
    expect(accounts.every((a) => a.primary_contact__c === null)).toBe(true);
    const even = Array.from({ length: users / 2 }, (_, n) => 2 * (n + 1));
    expect(await waits(base)).toEqual(even.map((i) => ({ parent_key: String(contactOf(i)), row_key: String(base + i) })));

    // The contacts arrive (each pointing at its user's account): their carry
    // forgets the waits and logs a second pass for each waiting user.
    await q(`INSERT INTO portal.contacts (id, user_id, full_name) SELECT $1 + 500 + i, $1 + i, 'Contact ' || i FROM unnest($2::int[]) i`, [
      base,
      even,
    ]);
    expect(await carryPending(lane, 'contacts_to_contacts')).toBe(even.length);
    expect(await waits(base)).toEqual([]);
    const second = await q(
      `SELECT row_key, reason FROM ferry.database_trigger_log WHERE mapping = 'users_to_accounts' AND status = 'pending' ORDER BY row_key::int`,
    );
    expect(second).toEqual(
      even.map((i) => ({ row_key: String(base + i), reason: `second pass: optional parent contacts_to_contacts key ${contactOf(i)} synced` })),
    );

    expect(await carryPending(lane, 'users_to_accounts')).toBe(even.length);
    const filled = await q(
      `SELECT portal_user_id__c::int - $1 AS i, primary_contact__c FROM salesforce.account
        WHERE portal_user_id__c::int BETWEEN $1 AND $1 + 999 ORDER BY 1`,
      [base],
    );
    expect(filled).toEqual(
      Array.from({ length: users }, (_, n) => ({ i: n + 1, primary_contact__c: (n + 1) % 2 ? null : String(contactOf(n + 1)) })),
    );
  });

  it("replaces a row's waits when it changes: a new absent parent is waited for, a dropped one no longer", async () => {
    await q(`UPDATE portal.users SET primary_contact_id = $1 + 900 + id - $1 WHERE id BETWEEN $1 + 1 AND $1 + 4`, [base]);
    await q(`UPDATE portal.users SET primary_contact_id = NULL WHERE id BETWEEN $1 + 5 AND $1 + 8`, [base]);
    await carryPending(lane, 'users_to_accounts');
    expect(await waits(base)).toEqual([1, 2, 3, 4].map((i) => ({ parent_key: String(base + 900 + i), row_key: String(base + i) })));
  });
});
