// The capture side alone: what ferry.capture()'s statement triggers write and
// notify, on real Postgres, in both capture modes (notify and poll).
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleMappings, exampleSubset } from '../example/mappings.js';
import { migrate } from '../src/capture/migrate.js';
import { createTestDatabase, logs, testConfig, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
// A second mapping that reads portal.users: each statement logs once per mapping.
const secondMapping = {
  name: 'users_to_orders',
  source: { table: 'portal.users', key: 'id' },
  target: { table: 'salesforce.order__c', key: 'portal_order_id__c' },
  transform: (row: Record<string, unknown>) => ({ portal_order_id__c: String(row.id) }),
};

describe.each([
  { mode: 'notify', notify: true },
  { mode: 'poll', notify: false },
])('ferry.capture ($mode mode)', ({ mode, notify }) => {
  // One database per mode: the mode is baked into the triggers.
  const file = FILE.replace(/\.test\.ts$/, `_${mode}.test.ts`);
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(file);
    await migrate(db.pool, testConfig(file, db, { mappings: [...exampleMappings, secondMapping], capture: { notify } }));
  });
  afterAll(() => db?.drop());

  it('logs a pending row with op, txid, key and the old image of updates and deletes', async () => {
    await db.pool.query(`INSERT INTO portal.users (id, email, full_name) VALUES (100000, 'a@x', 'A')`);
    await db.pool.query(`UPDATE portal.users SET full_name = 'B' WHERE id = 100000`);
    await db.pool.query(`DELETE FROM portal.users WHERE id = 100000`);
    const { rows } = await db.pool.query(
      `SELECT op, row_key, status, table_name, old_row->>'full_name' AS old, new_row->>'full_name' AS new, txid
         FROM ferry.database_trigger_log WHERE mapping = 'users_to_accounts' AND row_key = '100000' ORDER BY id`,
    );
    expect(rows.map(({ txid, ...r }) => r)).toEqual([
      { op: 'INSERT', row_key: '100000', status: 'pending', table_name: 'portal.users', old: null, new: null },
      { op: 'UPDATE', row_key: '100000', status: 'pending', table_name: 'portal.users', old: 'A', new: null },
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
    expect(moved.map((l) => [l.op, l.row_key])).toEqual([
      ['DELETE', '100002'],
      ['UPDATE', '100003'],
    ]);
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

  it(`${notify ? 'notifies ferry_<schema> once per transaction with an empty payload, only when the dispatcher is idle' : 'sends no notification'}`, async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const seen: { channel: string; payload?: string }[] = [];
    listener.on('notification', (n) => seen.push({ channel: n.channel, payload: n.payload }));
    await listener.query('LISTEN ferry_portal');
    const fence = async (name: string) => {
      await db.pool.query(`SELECT pg_notify('ferry_portal', $1)`, [name]);
      await waitFor(name, () => seen.some((n) => n.payload === name));
      return seen.splice(0).filter((n) => n.payload === '');
    };
    try {
      // An idle dispatcher: every earlier log already handed out.
      await db.pool.query(`UPDATE ferry.database_trigger_log SET dispatched_at = now() WHERE dispatched_at IS NULL`);
      // 300 rows of 20 kB each: far above NOTIFY's 8000-byte limit if rows travelled in it.
      await db.pool.query(`INSERT INTO portal.users (full_name) SELECT repeat('x', 20000) FROM generate_series(1, 300)`);
      // Poll mode sends nothing: the listener looks at the pending index instead.
      expect(await fence('first')).toEqual(notify ? [{ channel: 'ferry_portal', payload: '' }] : []);
      // Those 300 logs still wait for the dispatcher, which is therefore awake: no NOTIFY.
      await db.pool.query(`INSERT INTO portal.users (full_name) VALUES ('later')`);
      expect(await fence('second')).toEqual([]);
    } finally {
      await listener.end();
    }
  });

  const opsOf = async (from: number, to: number) =>
    (
      await db.pool.query<{ op: string; row_key: string; old: string | null; new_row: unknown }>(
        `SELECT op, row_key, old_row->>'full_name' AS old, new_row FROM ferry.database_trigger_log
          WHERE mapping = 'users_to_accounts' AND row_key::int BETWEEN $1 AND $2 ORDER BY id`,
        [from, to],
      )
    ).rows;

  it('logs every row of 1,000-row INSERT, UPDATE and DELETE statements, in statement order', async () => {
    await db.pool.query(`INSERT INTO portal.users (id, full_name) SELECT g, 'n' || g FROM generate_series(201000, 200001, -1) g`);
    // Half the rows keep their value: those are not logged.
    await db.pool.query(
      `UPDATE portal.users SET full_name = CASE WHEN id % 2 = 0 THEN full_name || '!' ELSE full_name END WHERE id BETWEEN 200001 AND 201000`,
    );
    await db.pool.query(`DELETE FROM portal.users WHERE id BETWEEN 200001 AND 201000`);
    const rows = await opsOf(200001, 201000);
    const inserts = rows.filter((r) => r.op === 'INSERT');
    expect(inserts.map((r) => Number(r.row_key))).toEqual(Array.from({ length: 1000 }, (_, i) => 201000 - i));
    const updates = rows.filter((r) => r.op === 'UPDATE');
    expect(updates).toHaveLength(500);
    expect(updates.every((r) => Number(r.row_key) % 2 === 0 && r.old === `n${r.row_key}`)).toBe(true);
    const deletes = rows.filter((r) => r.op === 'DELETE');
    expect(deletes).toHaveLength(1000);
    expect(deletes.every((r) => r.old === (Number(r.row_key) % 2 === 0 ? `n${r.row_key}!` : `n${r.row_key}`))).toBe(true);
    expect(rows.map((r) => r.op)).toEqual([...Array(1000).fill('INSERT'), ...Array(500).fill('UPDATE'), ...Array(1000).fill('DELETE')]);
    expect(rows.every((r) => r.new_row === null)).toBe(true);
  });

  it('logs a DELETE and an UPDATE for each row whose key one statement changes', async () => {
    await db.pool.query(`INSERT INTO portal.users (id, full_name) SELECT g, 'k' || g FROM generate_series(202001, 202003) g`);
    await db.pool.query(`UPDATE portal.users SET id = id + 100 WHERE id BETWEEN 202001 AND 202003`);
    const moved = (await opsOf(202001, 202103)).filter((r) => r.op !== 'INSERT');
    // Pairs in statement order (the heap's order, so compared as a set of pairs).
    const pairs = Array.from({ length: 3 }, (_, i) =>
      moved
        .slice(i * 2, i * 2 + 2)
        .map((r) => `${r.op} ${r.row_key} ${r.old}`)
        .join(', '),
    );
    expect(pairs.sort()).toEqual([202001, 202002, 202003].map((k) => `DELETE ${k} k${k}, UPDATE ${k + 100} k${k}`));
  });

  it('INSERT ... ON CONFLICT DO UPDATE logs the inserted rows as INSERT and the changed ones as UPDATE', async () => {
    await db.pool.query(`INSERT INTO portal.users (id, full_name) SELECT g, 'c' || g FROM generate_series(203001, 203004) g`);
    // 203001 keeps its value (not logged), 203002..203004 change, 203005..203006 are new.
    await db.pool.query(
      `INSERT INTO portal.users (id, full_name) SELECT g, CASE WHEN g = 203001 THEN 'c' || g ELSE 'd' || g END FROM generate_series(203001, 203006) g
       ON CONFLICT (id) DO UPDATE SET full_name = EXCLUDED.full_name`,
    );
    const upsert = (await opsOf(203001, 203006)).slice(4);
    expect(upsert.map((r) => `${r.op} ${r.row_key} ${r.old}`).sort()).toEqual([
      'INSERT 203005 null',
      'INSERT 203006 null',
      'UPDATE 203002 c203002',
      'UPDATE 203003 c203003',
      'UPDATE 203004 c203004',
    ]);
    // Postgres refuses a statement that would update one row twice; it logs nothing.
    await expect(
      db.pool.query(
        `INSERT INTO portal.users (id, full_name) VALUES (203001, 'x'), (203001, 'y') ON CONFLICT (id) DO UPDATE SET full_name = EXCLUDED.full_name`,
      ),
    ).rejects.toThrow(/cannot affect row a second time/);
    expect(await opsOf(203001, 203006)).toHaveLength(9);
  });

  it('logs the rows of a COPY', async () => {
    const data = Array.from({ length: 50 }, (_, i) => `${204001 + i}\tcopied ${i}`).join('\n') + '\n';
    execFileSync('psql', [db.url, '-v', 'ON_ERROR_STOP=1', '-c', '\\copy portal.users (id, full_name) FROM STDIN'], { input: data });
    const rows = await opsOf(204001, 204050);
    expect(rows.map((r) => `${r.op} ${r.row_key}`)).toEqual(Array.from({ length: 50 }, (_, i) => `INSERT ${204001 + i}`));
  });

  it('logs a statement once per mapping that reads the table, and ferry.origin silences only the mapping it names', async () => {
    const byMapping = async (from: number, to: number) =>
      (
        await db.pool.query<{ mapping: string; keys: string }>(
          `SELECT mapping, string_agg(row_key, ' ' ORDER BY id) AS keys FROM ferry.database_trigger_log
            WHERE row_key::int BETWEEN $1 AND $2 GROUP BY mapping ORDER BY mapping`,
          [from, to],
        )
      ).rows;
    await db.pool.query(`INSERT INTO portal.users (id, full_name) SELECT g, 'm' FROM generate_series(206003, 206001, -1) g`);
    expect(await byMapping(206001, 206003)).toEqual([
      { mapping: 'users_to_accounts', keys: '206003 206002 206001' },
      { mapping: 'users_to_orders', keys: '206003 206002 206001' },
    ]);
    await db.pool.query(`BEGIN; SELECT set_config('ferry.origin', 'salesforce.account', true);
      INSERT INTO portal.users (id, full_name) VALUES (206004, 'from salesforce'); COMMIT`);
    expect(await byMapping(206004, 206004)).toEqual([{ mapping: 'users_to_orders', keys: '206004' }]);
  });

  it('refuses a TRUNCATE with a message saying what to do, unless ferry.allow_truncate is on', async () => {
    await db.pool.query(`INSERT INTO portal.orders (id, user_id, amount) VALUES (205001, NULL, 1)`);
    await expect(db.pool.query('TRUNCATE portal.orders')).rejects.toThrow(/TRUNCATE of portal\.orders is refused/);
    const err = await db.pool.query('TRUNCATE portal.orders').catch((e: { hint?: string }) => e);
    expect((err as { hint?: string }).hint).toMatch(/DELETE FROM.*SET LOCAL ferry\.allow_truncate = on/);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM portal.orders')).rows[0].n).toBe(1);
    await db.pool.query('BEGIN; SET LOCAL ferry.allow_truncate = on; TRUNCATE portal.orders; COMMIT');
    expect((await db.pool.query('SELECT count(*)::int AS n FROM portal.orders')).rows[0].n).toBe(0);
  });

  it('migrates idempotently and drops triggers of tables no longer mapped', async () => {
    const config = testConfig(file, db, { mappings: exampleSubset('users_to_accounts'), capture: { notify } });
    const result = await migrate(db.pool, config);
    expect(result.applied).toEqual([]);
    expect(result.triggers).toEqual(['portal.users']);
    expect(result.dropped.sort()).toEqual(['portal.contacts', 'portal.orders', 'salesforce.account', 'salesforce.order__c']);
  });

  it('says plainly which table or unique index is missing', async () => {
    const config = testConfig(file, db, {
      capture: { notify },
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
