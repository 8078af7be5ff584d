// The capture side alone: what ferry.log_change() writes and notifies, on real Postgres.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleMappings, exampleSubset } from '../example/mappings.js';
import { migrate } from '../src/migrate.js';
import { createTestDatabase, logs, testConfig, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  await migrate(db.pool, testConfig(FILE, db, { mappings: exampleMappings }));
});
afterAll(() => db?.drop());

describe('ferry.log_change', () => {
  it('logs a pending row with old and new images, op, txid and key', async () => {
    await db.pool.query(`INSERT INTO portal.users (id, email, full_name) VALUES (100000, 'a@x', 'A')`);
    await db.pool.query(`UPDATE portal.users SET full_name = 'B' WHERE id = 100000`);
    await db.pool.query(`DELETE FROM portal.users WHERE id = 100000`);
    const { rows } = await db.pool.query(
      `SELECT op, row_key, status, table_name, old_row->>'full_name' AS old, new_row->>'full_name' AS new, txid
         FROM ferry.database_trigger_log WHERE mapping = 'users_to_accounts' AND row_key = '100000' ORDER BY id`,
    );
    expect(rows.map(({ txid, ...r }) => r)).toEqual([
      { op: 'INSERT', row_key: '100000', status: 'pending', table_name: 'portal.users', old: null, new: 'A' },
      { op: 'UPDATE', row_key: '100000', status: 'pending', table_name: 'portal.users', old: 'A', new: 'B' },
      { op: 'DELETE', row_key: '100000', status: 'pending', table_name: 'portal.users', old: 'B', new: null },
    ]);
    expect(new Set(rows.map((r) => r.txid)).size).toBe(3);
  });

  it('logs nothing for an update that changes nothing', async () => {
    await db.pool.query(`INSERT INTO portal.users (id, full_name) VALUES (100001, 'Same')`);
    const before = (await logs(db.pool)).length;
    await db.pool.query(`UPDATE portal.users SET full_name = 'Same' WHERE id = 100001`);
    expect((await logs(db.pool)).length).toBe(before);
  });

  it('turns a key change into a delete of the old key and a change of the new one', async () => {
    await db.pool.query(`INSERT INTO portal.users (id, full_name) VALUES (100002, 'Moves')`);
    await db.pool.query(`UPDATE portal.users SET id = 100003 WHERE id = 100002`);
    const moved = (await logs(db.pool, 'users_to_accounts')).filter((l) => ['100002', '100003'].includes(l.row_key)).slice(1);
    expect(moved.map((l) => [l.op, l.row_key])).toEqual([['DELETE', '100002'], ['UPDATE', '100003']]);
  });

  it("skips mappings that would carry Ferry's own write back to where it came from", async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('ferry.origin', 'portal.users', true)`);
      await client.query(`INSERT INTO salesforce.account (portal_user_id__c, name) VALUES ('104', 'From portal')`);
      await client.query('COMMIT');
      // The same write without the marker is an ordinary change.
      await client.query(`INSERT INTO salesforce.account (portal_user_id__c, name) VALUES ('105', 'From the connector')`);
    } finally {
      client.release();
    }
    const names = (await logs(db.pool, 'accounts_to_users')).length;
    expect(names).toBe(1);
  });

  it('notifies ferry_<schema> with an empty payload, once per transaction', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const seen: { channel: string; payload?: string }[] = [];
    listener.on('notification', (n) => seen.push({ channel: n.channel, payload: n.payload }));
    await listener.query('LISTEN ferry_portal');
    try {
      // 300 rows of 20 kB each: far above NOTIFY's 8000-byte limit if rows travelled in it.
      await db.pool.query(`INSERT INTO portal.users (full_name) SELECT repeat('x', 20000) FROM generate_series(1, 300)`);
      await waitFor('a notification', () => seen.length > 0);
      expect(seen[0]).toEqual({ channel: 'ferry_portal', payload: '' });
      await db.pool.query(`SELECT pg_notify('ferry_portal', 'fence')`);
      await waitFor('the fence', () => seen.some((n) => n.payload === 'fence'));
      expect(seen.filter((n) => n.payload === '')).toHaveLength(1);
    } finally {
      await listener.end();
    }
  });

  it('migrates idempotently and drops triggers of tables no longer mapped', async () => {
    const config = testConfig(FILE, db, { mappings: exampleSubset('users_to_accounts') });
    const result = await migrate(db.pool, config);
    expect(result.applied).toEqual([]);
    expect(result.triggers).toEqual(['portal.users']);
    expect(result.dropped.sort()).toEqual(['portal.contacts', 'portal.orders', 'salesforce.account', 'salesforce.order__c']);
  });

  it('says plainly which table or unique index is missing', async () => {
    const config = testConfig(FILE, db, {
      mappings: [
        { ...exampleSubset('users_to_accounts')[0]!, source: { table: 'portal.nope', key: 'id' } },
        { ...exampleSubset('users_to_accounts')[0]!, name: 'no_unique', target: { table: 'salesforce.account', key: 'name' } },
      ],
    });
    await expect(migrate(db.pool, config)).rejects.toThrow(
      /source table portal\.nope does not exist[\s\S]*target key salesforce\.account\.name needs a unique index/,
    );
  });
});
