// `ferry verify`: finds each kind of difference by hand-made example, exits 1
// on any; `--repair` carries them through the backfill path and ends equal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import { differingColumns } from '../src/bulk/verify.js';
import type { FerryConfig } from '../src/config.js';
import type { FerryProcess } from '../src/runtime.js';
import { runCli, writeCliConfig } from './support/cli.js';
import { createTestDatabase, startFerry, testConfig, type TestDatabase } from './support/harness.js';

const FILE = import.meta.url;

let db: TestDatabase;
let config: FerryConfig;
let ferry: FerryProcess;
let configFile: string;

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  // One way only: hand edits to salesforce.account are not carried back.
  config = testConfig(FILE, db, { mappings: exampleSubset('users_to_accounts') });
  await db.pool.query(`INSERT INTO portal.users (full_name, email) SELECT 'user ' || i, 'u' || i || '@example.com' FROM generate_series(1, 50) i`);
  // The target as a carry would have left it: transform(source), column for column.
  await db.pool.query(`INSERT INTO salesforce.account (portal_user_id__c, name, email__c) SELECT id::text, full_name, email FROM portal.users`);
  ferry = await startFerry(config, { listen: false });
  configFile = writeCliConfig('verify.config.ts', { database: { url: db.url }, temporal: config.temporal }, "exampleSubset('users_to_accounts')");
});

afterAll(async () => {
  await ferry?.stop();
  await db?.drop();
});

describe('ferry verify', () => {
  it('exits 0 when the target equals transform(source)', async () => {
    const run = await runCli(['verify', 'users_to_accounts', '--config', configFile]);
    expect(run.stdout).toContain('EQUAL');
    expect(run.code).toBe(0);
  }, 120_000);

  it('finds a row that differs, one missing in the target and an orphan; --repair fixes them', async () => {
    await db.pool.query(`UPDATE salesforce.account SET name = 'hand edited' WHERE portal_user_id__c = '7'`);
    await db.pool.query(`DELETE FROM salesforce.account WHERE portal_user_id__c = '9'`);
    await db.pool.query(`INSERT INTO salesforce.account (portal_user_id__c, name) VALUES ('4242', 'no such user')`);

    const found = await runCli(['verify', 'users_to_accounts', '--json', '--config', configFile]);
    expect(found.code).toBe(1);
    const report = JSON.parse(found.stdout);
    expect(report.equal).toBe(false);
    expect(report.mappings[0]).toMatchObject({ rows: 50, equal: 48, differs: 1, missing: 1, orphans: 1 });
    expect(report.mappings[0].examples).toMatchObject({
      differs: [{ key: '7', columns: { name: ['user 7', 'hand edited'] } }],
      missing: ['9'],
      orphans: ['4242'],
    });

    const text = await runCli(['verify', '--all', '--config', configFile]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('key 7 differs: name "hand edited" (want "user 7")');
    expect(text.stdout).toContain('DIFFERENT');

    const repaired = await runCli(['verify', 'users_to_accounts', '--repair', '--config', configFile]);
    expect(repaired.stdout).toContain('After repair:');
    expect(repaired.code).toBe(0);
    const account = async (key: string) =>
      (await db.pool.query(`SELECT name, isdeleted FROM salesforce.account WHERE portal_user_id__c = $1`, [key])).rows[0];
    expect(await account('7')).toEqual({ name: 'user 7', isdeleted: false });
    expect(await account('9')).toEqual({ name: 'user 9', isdeleted: false });
    // onDelete: softDelete flags the orphan rather than deleting it.
    expect(await account('4242')).toEqual({ name: 'no such user', isdeleted: true });
  }, 300_000);
});

describe('differingColumns', () => {
  it('compares only the columns the transform returned', () => {
    expect(differingColumns(['a', 'b'], { a: 1, b: 'x' }, { a: 1, b: 'y', c: 'other' })).toEqual({ b: ['x', 'y'] });
    expect(differingColumns(['a'], { a: null }, {})).toEqual({});
  });
});
