import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/capture/migrate.js';
import { parseConfig } from '../src/config.js';
import { packageInfo } from '../src/package-info.js';
import type { FerryProcess } from '../src/runtime.js';
import { runCli, writeCliConfig } from './support/cli.js';
import { createTestDatabase, startFerry, testConfig, type TestDatabase } from './support/harness.js';
import { HEROKU_CONNECT_SQL, installFerryPackage, PORTAL_HEROKU_CONNECT_SQL, uncommentBlocks } from './support/heroku-connect.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.filename;
let db: TestDatabase;
let hc: TestDatabase;
let ferry: FerryProcess | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-init-'));
// The written configs import defineConfig from the package, as in an app that installed it.
installFerryPackage(dir, packageInfo().name, fileURLToPath(new URL('..', import.meta.url)));

beforeAll(async () => {
  [db, hc] = await Promise.all([createTestDatabase(FILE, HEROKU_CONNECT_SQL), createTestDatabase(FILE, PORTAL_HEROKU_CONNECT_SQL, { suffix: 'hc' })]);
});
afterAll(async () => {
  await ferry?.stop();
  await Promise.all([db?.drop(), hc?.drop()]);
});

const init = (args: string[]) => runCli(['init', ...args], { DATABASE_URL: db.url });

describe('ferry init', () => {
  it('writes a config for the example schema that migrates and carries a user and its order', async () => {
    const out = path.join(dir, 'example.config.ts');
    const first = await init(['--from', 'portal', '--to', 'salesforce', '--pair', 'users=account', '--out', out]);
    expect(first.stderr).toMatch(/External ID/);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/users_to_account: portal\.users -> salesforce\.account \(key portal_user_id__c\)/);

    // Never overwritten without --force.
    const again = await init(['--from', 'portal', '--to', 'salesforce', '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists; pass --force/);

    const printed = await runCli(['migrate', '--print', '--config', out], { DATABASE_URL: db.url });
    expect(printed.stderr).toBe('');
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/CREATE OR REPLACE TRIGGER/);

    // The file as written, run on this test's Temporal namespace.
    const written = (await import(pathToFileURL(out).href)).default;
    const config = testConfig(FILE, db, { mappings: written.mappings });
    ferry = await startFerry(config);
    const { rows } = await db.pool.query<{ id: number }>(
      `WITH u AS (INSERT INTO portal.users (email, full_name) VALUES ('ada@example.com', 'Ada') RETURNING id)
       INSERT INTO portal.orders (user_id, amount, status) SELECT id, 12.5, 'new' FROM u RETURNING user_id AS id`,
    );
    const userId = rows[0]!.id;
    const account = await waitFor('the account', async () => {
      const r = await db.pool.query(`SELECT email__c, isdeleted FROM salesforce.account WHERE portal_user_id__c = $1`, [String(userId)]);
      return r.rows[0];
    });
    expect(account).toEqual({ email__c: 'ada@example.com', isdeleted: false });
    const order = await waitFor('the order', async () => {
      const r = await db.pool.query(`SELECT amount__c, status__c FROM salesforce.order__c WHERE amount__c = 12.5`);
      return r.rows[0];
    });
    expect(order).toEqual({ amount__c: '12.50', status__c: 'new' });
  });

  it('reads a Heroku Connect schema of 10 objects: keys, parents through sfid, its own columns left alone', async () => {
    const out = path.join(dir, 'hc.config.ts');
    const { code, stdout, stderr } = await init(['--from', 'app', '--to', 'sf', '--pair', 'products=product2', '--out', out]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/wrote .*: 10 mapping\(s\)/);
    expect(stderr).toMatch(/no target for: app\.audit_trail/);
    // product2 has no unique External ID column: said, with the fix.
    expect(stderr).toMatch(/CREATE UNIQUE INDEX ON sf\.product2 \(app_product_id__c\)/);
    // Declared in the row types, never written by a transform.
    const text = readFileSync(out, 'utf8').replace(/^interface [^]*?^}$/gm, '');
    expect(text).not.toMatch(/_hc_lastop|_hc_err|systemmodstamp:|sfid:/);
    expect(text).not.toMatch(/_trigger_log'/);

    const config = parseConfig((await import(pathToFileURL(out).href)).default, { DATABASE_URL: db.url });
    const byName = new Map(config.mappings.map((m) => [m.name, m]));
    expect(byName.get('accounts_to_account')).toMatchObject({
      target: { table: 'sf.account', key: 'app_account_id__c' },
      onDelete: { softDelete: 'isdeleted' },
      parents: [{ mapping: 'accounts_to_account', column: 'parent_id' }],
    });
    expect(byName.get('leads_to_lead')!.target.key).toBe('external_id__c');
    expect(byName.get('cases_to_case')!.parents).toEqual([expect.objectContaining({ mapping: 'contacts_to_contact', column: 'contact_id' })]);
    // A contact's accountid is its account's sfid, never the app's integer id.
    const contact = byName.get('contacts_to_contact')!;
    const ctx = { op: 'INSERT' as const, logId: 1, mapping: contact.name, parents: { account_id: { sfid: '001A' } } };
    expect(await contact.transform({ id: 7, account_id: 3, first_name: 'Ada', last_name: 'L', email: 'a@x' }, ctx)).toEqual({
      app_contact_id__c: '7',
      accountid: '001A',
      firstname: 'Ada',
      lastname: 'L',
      email: 'a@x',
      isdeleted: false,
    });

    const printed = await runCli(['migrate', '--print', '--config', out], { DATABASE_URL: db.url });
    expect(printed.code).toBe(0);
  });

  it('pairs portal.users with contact through its External ID, names the account through the relationship column, and carries both', async () => {
    const out = path.join(dir, 'portal.config.ts');
    // --config names the database here (DATABASE_URL unset); --out the file written.
    const settings = writeCliConfig('init-db.config.ts', { database: { url: hc.url } });
    const first = await runCli(['init', '--from', 'portal', '--to', 'salesforce', '--config', settings, '--out', out], { DATABASE_URL: '' });
    expect(first.stderr).not.toMatch(/no target for/);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/users_to_contact: portal\.users -> salesforce\.contact \(key portal_user_id__c\)/);
    expect(first.stdout).toMatch(/orgs_to_account: portal\.orgs -> salesforce\.account \(key portal_org_id__c\)/);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain(`import { defineConfig } from '${packageInfo().name}';`);
    expect(text).toContain('database: { url: process.env.DATABASE_URL! },');
    expect(text).not.toContain(hc.url);

    const written = (await import(pathToFileURL(out).href)).default;
    const config = parseConfig(written, { DATABASE_URL: hc.url });
    const contact = config.mappings.find((m) => m.name === 'users_to_contact')!;
    expect(contact.parents).toEqual([expect.objectContaining({ mapping: 'orgs_to_account', column: 'org_id' })]);

    // Every commented block, uncommented: the two-way config loads and migrates.
    const twoWay = path.join(dir, 'portal-two-way.config.ts');
    writeFileSync(twoWay, uncommentBlocks(text));
    const both = parseConfig((await import(pathToFileURL(twoWay).href)).default, { DATABASE_URL: hc.url });
    expect(both.mappings.map((m) => m.name).sort()).toEqual(['account_to_orgs', 'contact_to_users', 'orgs_to_account', 'users_to_contact']);
    await migrate(hc.pool, both);
    const triggers = await hc.pool.query<{ t: string }>(
      `SELECT DISTINCT c.relnamespace::regnamespace || '.' || c.relname AS t FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
        WHERE g.tgname = 'ferry_log_insert' ORDER BY 1`,
    );
    expect(triggers.rows.map((r) => r.t)).toEqual(['portal.orgs', 'portal.users', 'salesforce.account', 'salesforce.contact']);

    // One way, as written: the contact names its account by the org's External ID.
    await ferry?.stop();
    ferry = await startFerry(testConfig(FILE, hc, { mappings: written.mappings }));
    const { rows } = await hc.pool.query<{ org: number; usr: number }>(
      `WITH o AS (INSERT INTO portal.orgs (name) VALUES ('Acme') RETURNING id)
       INSERT INTO portal.users (org_id, email, first_name, last_name) SELECT id, 'ada@acme.test', 'Ada', 'L' FROM o RETURNING org_id AS org, id AS usr`,
    );
    const { org, usr } = rows[0]!;
    const row = await waitFor('the contact', async () => {
      const r = await hc.pool.query(`SELECT account__portal_org_id__c, email, accountid FROM salesforce.contact WHERE portal_user_id__c = $1`, [
        String(usr),
      ]);
      return r.rows[0];
    });
    expect(row).toEqual({ account__portal_org_id__c: String(org), email: 'ada@acme.test', accountid: null });
    const account = await hc.pool.query(`SELECT name FROM salesforce.account WHERE portal_org_id__c = $1`, [String(org)]);
    expect(account.rows).toEqual([{ name: 'Acme' }]);
  });
});
