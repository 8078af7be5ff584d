// Bad config through the real CLI: exit 2 and a message naming the key or the
// table, before anything is written.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, writeCliConfig } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/harness.js';

const FILE = import.meta.url;
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase(
    FILE,
    `CREATE TABLE portal.repeated_key (code text, v text);
     INSERT INTO portal.repeated_key (code) VALUES ('a'), ('a'), (NULL), (NULL);`,
  );
});
afterAll(async () => db?.drop());

const pair = (name: string, source: string, sourceKey: string, target: string, targetKey: string) =>
  `{ name: ${JSON.stringify(name)}, source: { table: ${JSON.stringify(source)}, key: ${JSON.stringify(sourceKey)} }, ` +
  `target: { table: ${JSON.stringify(target)}, key: ${JSON.stringify(targetKey)} }, transform: (row) => row }`;

describe('ferry migrate on a bad config', () => {
  it('an unknown key: exit 2 naming it', async () => {
    const file = writeCliConfig('unknown-key.config.ts', { database: { url: db.url }, temporal: { adress: 'x' } });
    const run = await runCli(['migrate', '--config', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('temporal');
    expect(run.stderr).toContain('adress');
  });

  it('a config module that throws when loaded: exit 2 naming the file', async () => {
    const file = path.join(os.tmpdir(), `ferry-throws-${process.pid}.config.mjs`);
    writeFileSync(file, `throw new Error('no secrets here');\n`);
    const run = await runCli(['migrate', '--config', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cannot load ${file}: no secrets here`);
  });

  it('missing tables and columns, a target key without a unique index, a source key with repeated values: exit 2 listing each, nothing migrated', async () => {
    const file = writeCliConfig(
      'schema-misfit.config.ts',
      { database: { url: db.url } },
      `[${[
        pair('no_source', 'portal.nope', 'id', 'salesforce.account', 'portal_user_id__c'),
        pair('no_target', 'portal.users', 'id', 'salesforce.nope', 'id'),
        pair('no_unique', 'portal.orders', 'id', 'salesforce.account', 'name'),
        pair('no_column', 'portal.users', 'nope', 'salesforce.account', 'portal_user_id__c'),
        pair('repeated', 'portal.repeated_key', 'code', 'salesforce.account', 'portal_user_id__c'),
        `{ name: 'no_status', source: { table: 'portal.orders', key: 'id' }, ` +
          `target: { table: 'salesforce.order__c', key: 'portal_order_id__c', downstream: 'heroku-connect' }, transform: (row) => row }`,
      ].join(', ')}]`,
    );
    const run = await runCli(['migrate', '--config', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('mapping no_source: source table portal.nope does not exist');
    expect(run.stderr).toContain('mapping no_target: target table salesforce.nope does not exist');
    expect(run.stderr).toContain('mapping no_unique: target key salesforce.account.name needs a unique index');
    expect(run.stderr).toContain('mapping no_column: source table portal.users has no column nope');
    // NULLs repeat too, and are no problem: the message names the value that repeats.
    expect(run.stderr).toContain('mapping repeated: source key portal.repeated_key.code is not unique: "a" names more than one row');
    expect(run.stderr).toContain('mapping no_status: target.downstream.status column salesforce.order__c._hc_lastop does not exist');
    expect((await db.pool.query(`SELECT to_regclass('ferry.database_trigger_log') AS t`)).rows[0].t).toBeNull();
  });
});
