// The example's config on a Heroku Connect-shaped schema, end to end, with a
// simulated connector on the far side: portal users become PENDING accounts,
// Salesforce's sfid comes back to the portal user, accounts made in
// Salesforce get their portal user (portal_user_id__c written back), edits
// flow both ways, and nothing Ferry writes is logged again (no echo).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleMappings } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
import type { FerryProcess } from '../src/runtime.js';
import { runCli, writeCliConfig } from './support/cli.js';
import { createTestDatabase, logs, startFerry, testConfig, waitForSettled, type TestDatabase } from './support/harness.js';
import { HerokuConnectSimulator } from './support/heroku-connect-fixture.js';
import { pairProblems } from './support/pairs.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
let db: TestDatabase;
let config: FerryConfig;
let ferry: FerryProcess;
let connector: HerokuConnectSimulator;
/** Writes the app made to portal.users: the only ones that may log users_to_accounts. */
let appUserWrites = 0;

const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
const account = async (userId: number) => (await q(`SELECT * FROM salesforce.account WHERE portal_user_id__c = $1`, [String(userId)]))[0];
const user = async (id: number) => (await q(`SELECT * FROM portal.users WHERE id = $1`, [id]))[0];

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  config = testConfig(FILE, db, { mappings: exampleMappings });
  ferry = await startFerry(config, { serve: true });
  // Salesforce refuses an account whose email is not one.
  connector = await new HerokuConnectSimulator(db.url, { reject: { account: `coalesce(email__c, '') NOT LIKE '%@%'` } }).connect();
  connector.start();
});
afterAll(async () => {
  await connector?.stop();
  await ferry?.stop();
  await db?.drop();
});

/** Every pair linked (sfid included, except on refused accounts) and no echo: each log comes from an app or connector write. */
async function expectConvergedWithoutEcho(refused: number): Promise<void> {
  await waitFor(
    'every account accepted or refused, every sfid back in portal',
    async () => {
      const [pending] = await q(
        `SELECT count(*)::int AS n FROM portal.users u LEFT JOIN salesforce.account a ON a.portal_user_id__c = u.id::text
        WHERE a.id IS NULL OR a._hc_lastop = 'PENDING' OR u.sfid IS DISTINCT FROM a.sfid`,
      );
      return pending.n === 0;
    },
    { timeoutMs: 120_000 },
  );
  await waitForSettled(db.pool, 120_000);
  expect(await pairProblems(db.pool)).toEqual([]);
  const [failed] = await q(`SELECT count(*)::int AS n FROM salesforce.account WHERE _hc_lastop = 'FAILED' AND sfid IS NULL`);
  expect(failed.n).toBe(refused);
  const all = await logs(db.pool);
  expect(all.filter((l) => l.status === 'failed' || l.status === 'pending')).toEqual([]);
  // No echo: portal.users logs only the app's writes, salesforce.account only the connector's.
  expect(all.filter((l) => l.mapping === 'users_to_accounts')).toHaveLength(appUserWrites);
  expect(all.filter((l) => l.mapping === 'accounts_to_users')).toHaveLength(connector.rowsWritten);
}

describe('the example on a Heroku Connect schema', () => {
  it('singles: a user becomes an account and gets its sfid; an account made in Salesforce gets its user; edits flow both ways', async () => {
    const [ada, bad] = await q(
      `INSERT INTO portal.users (full_name, email) VALUES ('Ada', 'ada@example.com'), ('Bad Email', 'not-an-email') RETURNING id`,
    );
    appUserWrites += 2;
    // PENDING first (the connector's trigger marks Ferry's insert), then Salesforce's sfid comes back to the portal.
    const accepted = await waitFor('Ada has her sfid', async () => (await user(ada.id))?.sfid ?? undefined);
    expect(accepted).toMatch(/^001[0-9A-F]{15}$/);
    expect(await account(ada.id)).toMatchObject({ name: 'Ada', sfid: accepted, _hc_lastop: 'SYNCED', _hc_err: null });
    const refused = await waitFor('the bad email is refused', async () => {
      const a = await account(bad.id);
      return a?._hc_lastop === 'FAILED' ? a : undefined;
    });
    expect(refused.sfid).toBeNull();
    expect(JSON.parse(refused._hc_err)).toMatchObject({
      op: 'INSERT',
      src: 'SFDC',
      msg: expect.stringContaining('FIELD_CUSTOM_VALIDATION_EXCEPTION'),
    });

    // Made in Salesforce: sfid set, External ID NULL. Ferry creates the user and writes its id back.
    const [madeThere] = await connector.createInSalesforce('account', [{ name: 'Grace', email__c: 'grace@example.com' }]);
    const grace = await waitFor(
      'a portal user for the Salesforce account',
      async () => (await q(`SELECT * FROM portal.users WHERE sfid = $1`, [madeThere]))[0],
    );
    expect(grace).toMatchObject({ full_name: 'Grace', email: 'grace@example.com' });
    await waitFor('portal_user_id__c written back', async () => (await account(grace.id))?.sfid === madeThere);

    // Edits both ways.
    await q(`UPDATE portal.users SET full_name = 'Ada Lovelace' WHERE id = $1`, [ada.id]);
    appUserWrites += 1;
    await connector.editInSalesforce('account', madeThere!, { name: 'Grace Hopper' });
    await waitFor('the portal edit in Salesforce', async () => (await account(ada.id))?.name === 'Ada Lovelace');
    await waitFor('the Salesforce edit in the portal', async () => (await user(grace.id))?.full_name === 'Grace Hopper');
    await expectConvergedWithoutEcho(1);
  }, 180_000);

  it('status: delivered, pending and rejected counted, the rejection shown with its _hc_err; retry --downstream-rejected sends it again after a fix', async () => {
    const configFile = writeCliConfig('heroku-connect.config.ts', { database: { url: db.url }, temporal: config.temporal });
    const status = async () => {
      const run = await runCli(['status', '--json', '--config', configFile]);
      return { code: run.code, report: JSON.parse(run.stdout) };
    };
    const before = await status();
    expect(before.code).toBe(1); // a rejected row needs a person
    expect(before.report.problems).toContain('users_to_accounts: 1 row(s) rejected downstream');
    const [bad] = await q(`SELECT id FROM portal.users WHERE full_name = 'Bad Email'`);
    const accounts = before.report.downstream.find((d: { mapping: string }) => d.mapping === 'users_to_accounts');
    expect(accounts).toMatchObject({ delivered: 2, pending: 0, rejected: 1, rejections: [{ key: String(bad.id) }] });
    expect(JSON.parse(accounts.rejections[0].error)).toMatchObject({
      src: 'SFDC',
      msg: expect.stringContaining('FIELD_CUSTOM_VALIDATION_EXCEPTION'),
    });
    expect(accounts.reasons).toEqual([{ error: accounts.rejections[0].error, rows: 1 }]);
    const text = await runCli(['status', '--config', configFile]);
    expect(text.stdout).toContain('users_to_accounts  delivered 2  pending 0  rejected 1');
    expect(text.stdout).toContain(`key ${bad.id}: FIELD_CUSTOM_VALIDATION_EXCEPTION: rejected by a validation rule`);
    const metrics = await (await fetch(`${ferry.http!.url}/metrics`)).text();
    expect(metrics).toContain('ferry_downstream_rows{mapping="users_to_accounts",state="rejected"} 1');
    expect(metrics).toContain('ferry_downstream_rows{mapping="users_to_accounts",state="delivered"} 2');

    // The fix is in Salesforce (the validation rule relaxed): the row is sent again as it is, and accepted.
    connector.opts.reject = {};
    const logsBefore = (await logs(db.pool)).length;
    const retry = await runCli(['retry', '--downstream-rejected', '--mapping', 'users_to_accounts', '--config', configFile]);
    expect(retry.stdout).toContain('users_to_accounts: 1 rejected row(s) pending downstream again');
    expect(retry.code).toBe(0);
    const sfid = await waitFor('the resent account accepted, its sfid in the portal', async () => (await user(bad.id))?.sfid ?? undefined);
    expect(await account(bad.id)).toMatchObject({ sfid, _hc_lastop: 'SYNCED', _hc_err: null });
    const after = await status();
    expect(after.report.downstream.find((d: { mapping: string }) => d.mapping === 'users_to_accounts')).toMatchObject({
      delivered: 3,
      rejected: 0,
      rejections: [],
    });
    // Ferry's own write to the account logged nothing; the connector's acceptance did (and carried the sfid).
    await waitForSettled(db.pool);
    expect((await logs(db.pool)).slice(logsBefore).map((l) => `${l.mapping} ${l.row_key} ${l.status}`)).toEqual([
      `accounts_to_users ${(await account(bad.id)).id} synced`,
    ]);
  }, 180_000);

  it('a burst of 5,000 portal users (the batch lane): every pair linked with its sfid, no echo, the rejected ones in status', async () => {
    connector.opts.reject = { account: `coalesce(email__c, '') NOT LIKE '%@%'` };
    const [{ last }] = await q(`SELECT max(id)::int AS last FROM ferry.database_trigger_log`);
    // Every 1,000th has no valid email: Salesforce refuses 5 of them.
    await q(
      `INSERT INTO portal.users (full_name, email)
       SELECT 'burst ' || i, CASE WHEN i % 1000 = 0 THEN 'burst' || i ELSE 'burst' || i || '@example.com' END FROM generate_series(1, 5000) i`,
    );
    appUserWrites += 5000;
    await expectConvergedWithoutEcho(5);
    const [linked] = await q(`SELECT count(*)::int AS n FROM portal.users WHERE full_name LIKE 'burst %' AND sfid LIKE '001%'`);
    expect(linked.n).toBe(4995);
    // A backlog goes in syncBatch workflows; the singles above went one syncLog each.
    const carriers = await q(
      `SELECT DISTINCT CASE WHEN workflow_id LIKE '%-batch-%' THEN 'batch' ELSE 'single' END AS lane
         FROM ferry.database_trigger_log WHERE mapping = 'users_to_accounts' AND status = 'synced' AND id > $1`,
      [last],
    );
    expect(carriers.map((c) => c.lane)).toContain('batch');

    const run = await runCli([
      'status',
      '--json',
      '--config',
      writeCliConfig('burst.config.ts', { database: { url: db.url }, temporal: config.temporal }),
    ]);
    const accounts = JSON.parse(run.stdout).downstream.find((d: { mapping: string }) => d.mapping === 'users_to_accounts');
    expect(accounts).toMatchObject({ delivered: 4995 + 3, pending: 0, rejected: 5 });
    expect(accounts.rejections).toHaveLength(5);
    for (const r of accounts.rejections) expect(JSON.parse(r.error)).toMatchObject({ op: 'INSERT', src: 'SFDC' });
  }, 300_000);
});
