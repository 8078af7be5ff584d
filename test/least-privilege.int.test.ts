// Ferry needs no superuser: `migrate` runs as an owner role with the rights
// docs/trust-boundary.md lists, and `start` runs as a minimal role that can only read the
// sources, write the targets and keep the log. The grants are in test/support/roles.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { exampleMappings } from '../example/mappings.js';
import type { FerryProcess } from '../src/runtime.js';
import { createTestDatabase, testConfig, waitForSettled, type TestDatabase } from './support/harness.js';
import { dropRoles, migrateAs, ownerGrants, runnerGrants, startAs } from './support/roles.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
let db: TestDatabase;
let ferry: FerryProcess | undefined;
const suffix = inject('runId');
const OWNER = `ferry_owner_${suffix}`;
const RUNNER = `ferry_runner_${suffix}`;

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  await dropRoles(db.pool, [OWNER, RUNNER]);
});

afterAll(async () => {
  await ferry?.stop();
  await dropRoles(db.pool, [OWNER, RUNNER]).catch(() => undefined);
  await db?.drop();
});

describe('least privilege', () => {
  it('migrate as an owner role, start as a minimal role, and rows are carried', async () => {
    const database = new URL(db.url).pathname.slice(1);
    await db.pool.query(ownerGrants(OWNER, database));
    const config = testConfig(FILE, db, { mappings: exampleMappings });
    await migrateAs(config, OWNER);
    const owner = await db.pool.query('SELECT rolsuper FROM pg_roles WHERE rolname = $1', [OWNER]);
    expect(owner.rows[0].rolsuper).toBe(false);

    await db.pool.query(runnerGrants(RUNNER));
    ferry = await startAs(config, RUNNER);

    // The runner cannot change Ferry's schema or the tables' definitions.
    await expect(ferry.pool.query('CREATE TABLE ferry.intruder (x int)')).rejects.toThrow(/permission denied/);
    await expect(ferry.pool.query('ALTER TABLE portal.users ADD COLUMN x int')).rejects.toThrow(/must be owner/);

    // An application writing as postgres (any role: the capture needs no right of the writer's, test/trust-boundary.int.test.ts).
    const { rows } = await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('ada@example.com', 'Ada') RETURNING id`);
    await db.pool.query(`INSERT INTO portal.orders (user_id, amount, status) VALUES ($1, 5, 'new')`, [rows[0].id]);
    await waitFor(
      'order carried under the minimal role',
      async () =>
        (await db.pool.query(`SELECT 1 FROM salesforce.order__c WHERE account__r__portal_user_id__c = $1`, [String(rows[0].id)])).rowCount === 1,
    );
    // Linking: an account made in Salesforce gets a portal user, its id written back.
    await db.pool.query(`INSERT INTO salesforce.account (name, email__c) VALUES ('Grace', 'grace@example.com')`);
    await waitFor(
      'account linked',
      async () => (await db.pool.query(`SELECT portal_user_id__c FROM salesforce.account WHERE name = 'Grace'`)).rows[0]?.portal_user_id__c,
    );
    const settled = await waitForSettled(db.pool);
    expect(settled.filter((l) => l.status === 'failed')).toEqual([]);
  });
});
