// Bad input at run time: odd values, transforms that misbehave, a log edited
// by hand, tables dropped or altered under Ferry, a flood of NOTIFYs. Each
// fails (or carries) its own log with a message naming the thing; the process
// stays up and every other row goes on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FerryConfig, Row } from '../src/config.js';
import { channelsFor } from '../src/dispatch/listener.js';
import type { FerryProcess } from '../src/runtime.js';
import { createTestDatabase, logs, startFerry, testConfig, waitForSettled, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;

const VALUE_COLUMNS = `
  n30 numeric(40, 0), big bigint, b bytea, arr int[], tags text[], j jsonb, js jsonb,
  ts timestamptz, local_ts timestamp, body text`;
const SQL = `
  CREATE TABLE portal.vals (id bigint PRIMARY KEY, ${VALUE_COLUMNS});
  CREATE TABLE salesforce.vals (id bigint PRIMARY KEY, ${VALUE_COLUMNS});
  CREATE TABLE portal.skeys (k text PRIMARY KEY, v text);
  CREATE TABLE salesforce.skeys (k text PRIMARY KEY, v text);
  CREATE TABLE portal.tx (id serial PRIMARY KEY, kind text);
  CREATE TABLE salesforce.tx (id text PRIMARY KEY, n int, kind text);
  CREATE TABLE portal.gone (id serial PRIMARY KEY, v text);
  CREATE TABLE salesforce.gone (id text PRIMARY KEY, v text);
  CREATE TABLE portal.alt (id serial PRIMARY KEY, v text);
  CREATE TABLE salesforce.alt (id text PRIMARY KEY, v text, extra text);
`;

const copy = (row: Row) => ({ ...row });
// A transform for every way user code can misbehave, chosen by the row's kind.
const misbehave = (row: Row): any => {
  switch (row.kind) {
    case 'string':
      return 'not a row';
    case 'array':
      return [row.id];
    case 'undefined':
      return undefined;
    case 'unknown column':
      return { id: String(row.id), nope: 1 };
    case 'wrong type':
      return { id: String(row.id), n: 'twelve' };
    case 'never resolves':
      return new Promise(() => {});
    case 'throws':
      throw new Error('no kind of row I know');
    default:
      return { id: String(row.id), kind: row.kind };
  }
};

let db: TestDatabase;
let config: FerryConfig;
let ferry: FerryProcess | undefined;

beforeAll(async () => {
  db = await createTestDatabase(FILE, SQL);
  const pair = (name: string, key: string, transform: (row: Row) => any) => ({
    name,
    source: { table: `portal.${name}`, key },
    target: { table: `salesforce.${name}`, key },
    transform,
  });
  config = testConfig(FILE, db, {
    mappings: [
      pair('vals', 'id', copy),
      pair('skeys', 'k', copy),
      { ...pair('tx', 'id', misbehave), transformTimeout: '500ms' },
      pair('gone', 'id', (row) => ({ id: String(row.id), v: row.v })),
      pair('alt', 'id', (row) => ({ id: String(row.id), v: row.v, extra: 'x' })),
    ],
  });
  ferry = await startFerry(config);
});

afterAll(async () => {
  await ferry?.stop();
  await db?.drop();
});

const statusOf = async (mapping: string, rowKey: string) =>
  (await logs(db.pool, mapping)).filter((l) => l.row_key === rowKey && l.status !== 'pending').at(-1);
const settledLog = (mapping: string, rowKey: string) => waitFor(`${mapping} ${rowKey} settled`, () => statusOf(mapping, rowKey));
// Rows whose target differs from the source, compared as Postgres prints them.
const differing = async (table: string, key: string) =>
  (
    await db.pool.query(
      `SELECT ${key} AS k FROM portal.${table} s FULL JOIN salesforce.${table} t USING (${key}) WHERE s::text IS DISTINCT FROM t::text`,
    )
  ).rows;
const carriedOk = async (kind = 'ok') => {
  const { rows } = await db.pool.query(`INSERT INTO portal.tx (kind) VALUES ($1) RETURNING id`, [kind]);
  const id = String(rows[0].id);
  await waitFor(
    `an ordinary row (${kind}) carried`,
    async () => (await db.pool.query('SELECT 1 FROM salesforce.tx WHERE id = $1', [id])).rowCount === 1,
  );
  return id;
};

describe('values arrive exactly', () => {
  it('numeric(40), bigint above 2^53, bytea, arrays, jsonb, timestamps in several zones, a 1 MB row', async () => {
    await db.pool.query(`
      INSERT INTO portal.vals VALUES
        (9007199254740993, 123456789012345678901234567890, 9223372036854775807, '\\x00ff10', '{1,2,3}', '{"a,b","c\\"d",NULL,""}',
         '{"deep": {"n": 1234567890, "f": 0.1}, "arr": [1, "x", null]}', '"just a string"',
         '2026-03-29 01:30:00+14', '2026-03-29 01:30:00', 'short'),
        (2, -99999999999999999999999999999999999999, -9223372036854775808, '', '{}', '{}', '[]', '{"a": null}',
         '2026-10-25 02:30:00 America/St_Johns', '1970-01-01 00:00:00', ''),
        (3, 0, 0, NULL, NULL, NULL, NULL, NULL, '2026-01-01 00:00:00-12', NULL, NULL),
        (4, 1, 1, decode(repeat('ab', 65536), 'hex'), '{7}', '{Ω}', '{"k": "ü"}', '1.5', 'infinity', 'infinity', repeat('x', 1048576))`);
    await waitFor('all values carried', async () => (await db.pool.query('SELECT count(*)::int AS n FROM salesforce.vals')).rows[0].n === 4);
    expect(await differing('vals', 'id')).toEqual([]);
    // And again after an update of every column.
    await db.pool.query(
      `UPDATE portal.vals SET big = big / 2, n30 = n30 - 1, arr = arr || 9, j = j || '{"u": 1}', ts = ts + interval '1 hour', body = body || 'y'`,
    );
    await waitFor('updates carried', async () => (await differing('vals', 'id')).length === 0);
    await waitForSettled(db.pool);
    expect((await logs(db.pool, 'vals')).filter((l) => l.status === 'failed')).toEqual([]);
  });

  it('documented limits: inside jsonb, a number a double cannot hold becomes a string; a JSON null becomes NULL', async () => {
    await db.pool.query(`INSERT INTO portal.vals (id, j, js) VALUES (5, '{"n": 12345678901234567890}', 'null')`);
    const carried = await waitFor('carried', async () => (await db.pool.query('SELECT j, js FROM salesforce.vals WHERE id = 5')).rows[0]);
    expect(carried).toEqual({ j: { n: '12345678901234567890' }, js: null });
    await db.pool.query('DELETE FROM portal.vals WHERE id = 5');
    await waitFor('deleted', async () => (await db.pool.query('SELECT 1 FROM salesforce.vals WHERE id = 5')).rowCount === 0);
  });

  it('an empty-string key is a key like any other', async () => {
    await db.pool.query(`INSERT INTO portal.skeys VALUES ('', 'empty'), (' ', 'space')`);
    await waitFor('both carried', async () => (await db.pool.query('SELECT count(*)::int AS n FROM salesforce.skeys')).rows[0].n === 2);
    expect(await differing('skeys', 'k')).toEqual([]);
  });
});

describe('transforms that misbehave fail their own log, clearly', () => {
  it.each([
    ['string', 'returned string, not a row object'],
    ['array', 'returned an array, not a row object'],
    ['undefined', 'returned undefined (return null to skip a change)'],
    ['unknown column', 'nope'],
    ['wrong type', 'invalid input syntax for type integer: "twelve"'],
    ['never resolves', 'did not finish within 500 ms (transformTimeout)'],
    ['throws', 'threw: no kind of row I know'],
  ])('%s', async (kind, message) => {
    const { rows } = await db.pool.query(`INSERT INTO portal.tx (kind) VALUES ($1) RETURNING id`, [kind]);
    const log = await settledLog('tx', String(rows[0].id));
    expect(log).toMatchObject({ status: 'failed' });
    expect(log.error).toContain('tx');
    expect(log.error).toContain(message);
    await carriedOk(); // and the next row goes on
  });
});

describe('a broken log or database fails the log that meets it', () => {
  const handLog = async (mapping: string, op: string, rowKey: string, oldRow: string | null) =>
    (
      await db.pool.query(
        `INSERT INTO ferry.database_trigger_log (mapping, table_name, op, row_key, old_row) VALUES ($1, 'portal.' || $1, $2, $3, $4::jsonb) RETURNING id`,
        [mapping, op, rowKey, oldRow],
      )
    ).rows[0].id as number;
  const final = (id: number) => waitFor(`log ${id} final`, async () => (await logs(db.pool)).find((l) => l.id === id && l.status !== 'pending'));

  it.each([
    ['a mapping no config has', ['no_such_mapping', 'INSERT', '1', null], 'mapping "no_such_mapping" is not in the config'],
    ['old_row that is not a row', ['tx', 'DELETE', '1', '"garbage"'], 'old_row is a JSON string, not a row object'],
    ['a key no row can have', ['vals', 'UPDATE', 'not-a-number', null], 'invalid input syntax for type bigint: "not-a-number"'],
  ] as const)('%s', async (_, [mapping, op, rowKey, oldRow], message) => {
    const id = await handLog(mapping, op, rowKey, oldRow);
    const log = await final(id);
    expect(log).toMatchObject({ status: 'failed' });
    expect(log.error).toContain(message);
    await carriedOk();
  });

  it('a settled log edited back to pending with garbage', async () => {
    const id = await carriedOk();
    const log = (await logs(db.pool, 'tx')).find((l) => l.row_key === id)!;
    await db.pool.query(
      `UPDATE ferry.database_trigger_log SET status = 'pending', dispatched_at = NULL, op = 'DELETE', old_row = '[1, 2]', error = NULL WHERE id = $1`,
      [log.id],
    );
    const after = await final(log.id);
    expect(after.status).toBe('failed');
    expect(after.error).toContain('old_row is a JSON array');
  });

  it('a target table dropped while Ferry runs', async () => {
    await db.pool.query('DROP TABLE salesforce.gone');
    const { rows } = await db.pool.query(`INSERT INTO portal.gone (v) VALUES ('a') RETURNING id`);
    const log = await settledLog('gone', String(rows[0].id));
    expect(log.status).toBe('failed');
    expect(log.error).toContain('relation "salesforce.gone" does not exist');
    await carriedOk();
  });

  it('a target column dropped while Ferry runs', async () => {
    await db.pool.query('ALTER TABLE salesforce.alt DROP COLUMN extra');
    const { rows } = await db.pool.query(`INSERT INTO portal.alt (v) VALUES ('a') RETURNING id`);
    const log = await settledLog('alt', String(rows[0].id));
    expect(log.status).toBe('failed');
    expect(log.error).toContain('extra');
    await carriedOk();
  });

  it('a source table dropped with a change still pending', async () => {
    await db.pool.query('DROP TABLE portal.gone');
    const id = await handLog('gone', 'INSERT', '1', null);
    const log = await final(id);
    expect(log.status).toBe('failed');
    expect(log.error).toContain('relation "portal.gone" does not exist');
  });
});

describe('NOTIFY', () => {
  it("a flood on Ferry's channel from another client costs nothing", async () => {
    const channel = channelsFor(config)[0]!;
    // 20 transactions of 1,000 distinct payloads (distinct ones are not folded), and one of 7,999 bytes.
    for (let i = 0; i < 20; i++) await db.pool.query(`SELECT pg_notify($1, 'junk ' || $2 || ' ' || g) FROM generate_series(1, 1000) g`, [channel, i]);
    await db.pool.query(`SELECT pg_notify($1, repeat('x', 7999))`, [channel]);
    const started = Date.now();
    await carriedOk();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(ferry!.listener!.listening).toBe(true);
  });
});
