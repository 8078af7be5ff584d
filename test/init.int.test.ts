import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import type { FerryProcess } from '../src/runtime.js';
import { runCli } from './support/cli.js';
import { createTestDatabase, startFerry, testConfig, type TestDatabase } from './support/harness.js';
import { HEROKU_CONNECT_SQL } from './support/heroku-connect.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.filename;
let db: TestDatabase;
let ferry: FerryProcess | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-init-'));

beforeAll(async () => {
  db = await createTestDatabase(FILE, HEROKU_CONNECT_SQL);
});
afterAll(async () => {
  await ferry?.stop();
  await db?.drop();
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
    const text = readFileSync(out, 'utf8');
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
});
