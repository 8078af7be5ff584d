// Ferry needs no superuser: `migrate` runs as an owner role with the rights
// the README lists, and `start` runs as a minimal role that can only read the
// sources, write the targets and keep the log. The grants here are the README's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { exampleMappings } from '../example/mappings.js';
import { parseConfig, type FerryConfig } from '../src/config.js';
import { createPool } from '../src/db/index.js';
import { silentLogger } from '../src/logger.js';
import { migrate } from '../src/capture/migrate.js';
import { runFerry, type FerryProcess } from '../src/runtime.js';
import { createTestDatabase, testConfig, waitForSettled, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
let db: TestDatabase;
let ferry: FerryProcess | undefined;
const suffix = inject('runId');
const OWNER = `ferry_owner_${suffix}`;
const RUNNER = `ferry_runner_${suffix}`;

/** The README's grants, for a database, the owner and the runtime role. */
const ownerGrants = (database: string) => `
  CREATE ROLE ${OWNER} LOGIN;
  GRANT CREATE ON DATABASE ${database} TO ${OWNER};                       -- schema ferry
  GRANT USAGE ON SCHEMA portal, salesforce TO ${OWNER};
  GRANT TRIGGER ON ALL TABLES IN SCHEMA portal, salesforce TO ${OWNER};  -- the capture triggers`;
const runnerGrants = () => `
  CREATE ROLE ${RUNNER} LOGIN;
  GRANT USAGE ON SCHEMA ferry TO ${RUNNER};
  GRANT SELECT, INSERT, UPDATE, DELETE ON ferry.database_trigger_log, ferry.optional_waits, ferry.backfill_runs TO ${RUNNER};
  GRANT USAGE ON ALL SEQUENCES IN SCHEMA ferry TO ${RUNNER};
  GRANT USAGE ON SCHEMA portal, salesforce TO ${RUNNER};
  GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA portal, salesforce TO ${RUNNER};
  GRANT USAGE ON ALL SEQUENCES IN SCHEMA portal, salesforce TO ${RUNNER};`;
const urlAs = (role: string) => {
  const url = new URL(db.url);
  url.username = role;
  return url.toString();
};
const dropRoles = async () => {
  for (const role of [OWNER, RUNNER]) {
    await db.pool.query(`DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
      EXECUTE 'REASSIGN OWNED BY ${role} TO postgres'; EXECUTE 'DROP OWNED BY ${role}'; EXECUTE 'DROP ROLE ${role}'; END IF; END $$`);
  }
};

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  await dropRoles();
});

afterAll(async () => {
  await ferry?.stop();
  await dropRoles().catch(() => undefined);
  await db?.drop();
});

describe('least privilege', () => {
  it('migrate as an owner role, start as a minimal role, and rows are carried', async () => {
    const database = new URL(db.url).pathname.slice(1);
    await db.pool.query(ownerGrants(database));
    const base = testConfig(FILE, db, { mappings: exampleMappings });
    const as = (role: string): FerryConfig => parseConfig({ ...base, database: { ...base.database, url: urlAs(role) } }, {});

    const ownerPool = createPool(urlAs(OWNER), 1);
    try {
      await migrate(ownerPool, as(OWNER));
      expect((await ownerPool.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0].rolsuper).toBe(false);
    } finally {
      await ownerPool.end();
    }

    await db.pool.query(runnerGrants());
    ferry = await runFerry({
      config: as(RUNNER),
      logger: silentLogger,
      listen: true,
      work: true,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      shutdownGraceTime: '5s',
    });
    await ferry.workerReady;

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
