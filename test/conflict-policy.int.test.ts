// A one-side-always-wins policy: portal (users_to_accounts' source) wins every conflict.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
import type { FerryProcess } from '../src/runtime.js';
import { createTestDatabase, VARIANTS, logs, startFerry, testConfig, waitForSettled, type TestDatabase } from './support/harness.js';
import { pairProblems } from './support/pairs.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
let db: TestDatabase;
let config: FerryConfig;
let ferry: FerryProcess;

const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;

describe.each(VARIANTS)('$lane lane, $mode capture', ({ lane, mode }) => {
  beforeAll(async () => {
    db = await createTestDatabase(FILE, '', { lane, mode });
    const [toAccounts, toUsers] = exampleSubset('users_to_accounts', 'accounts_to_users');
    config = testConfig(
      FILE,
      db,
      {
        mappings: [
          { ...toAccounts!, conflict: 'source-wins' },
          { ...toUsers!, conflict: undefined },
        ],
      },
      lane,
    );
    expect(config.mappings.map((m) => m.conflict)).toEqual(['source-wins', 'target-wins']);
    ferry = await startFerry(config);
  });
  afterAll(async () => {
    await ferry?.stop();
    await db?.drop();
  });

  it('keeps the portal side even when Salesforce changed last', async () => {
    const [{ id }] = await q(`INSERT INTO portal.users (full_name, email) VALUES ('Pair', 'pair@x') RETURNING id`);
    await waitFor(
      'account',
      async () => (await q('SELECT name FROM salesforce.account WHERE portal_user_id__c = $1', [String(id)]))[0]?.name === 'Pair',
    );
    await ferry.stop();
    await q(`UPDATE portal.users SET full_name = 'Portal name' WHERE id = $1`, [id]);
    await q(`UPDATE salesforce.account SET name = 'SF name', email__c = 'sf@x' WHERE portal_user_id__c = $1`, [String(id)]);
    ferry = await startFerry(config);
    const settled = await waitForSettled(db.pool);
    expect(settled.filter((l) => l.status === 'failed')).toEqual([]);
    expect(await pairProblems(db.pool)).toEqual([]);
    expect((await q('SELECT full_name, email FROM portal.users WHERE id = $1', [id]))[0]).toEqual({ full_name: 'Portal name', email: 'pair@x' });
    const [sfChange] = await logs(db.pool, 'accounts_to_users');
    expect(sfChange).toMatchObject({ status: 'skipped' });
    expect(sfChange!.error).toMatch(/^conflict: lost to \d+ of users_to_accounts \(source-wins\)$/);
  });
});
