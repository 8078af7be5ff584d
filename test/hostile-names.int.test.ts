// Schema, table and column names with quotes, spaces, upper case, unicode,
// reserved words and ";", end to end: migrate, trigger, listener, sync,
// verify. Columns named t and s, like the aliases Ferry's statements once
// gave the tables they read whole rows of (a bare name is a column first).
// Runs against whichever trigger is on main.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyMapping } from '../src/bulk/verify.js';
import type { FerryConfig } from '../src/config.js';
import type { FerryProcess } from '../src/runtime.js';
import { deleteStatement, quoteIdent, quoteTable, selectRowStatement, upsertStatement } from '../src/statements.js';
import { formatTable, identifierProblem } from '../src/table-name.js';
import { createTestDatabase, startFerry, testConfig, waitForSettled, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;

const SRC = 'My "Sales"; --';
const DST = 'Target Ω';
const q = quoteIdent;
const SQL = `
  CREATE SCHEMA ${q(SRC)};
  CREATE SCHEMA ${q(DST)};
  CREATE TABLE ${q(SRC)}.${q('Users')} (${q('Id')} serial PRIMARY KEY, ${q('select')} text, ${q('we"ird; col')} text, t text, s text);
  CREATE TABLE ${q(SRC)}.${q('Order Lines ü')} (${q('Id')} serial PRIMARY KEY, ${q('User Id')} int, ${q('from')} text);
  CREATE TABLE ${q(DST)}.${q('Users Table')} (${q('Key')} text PRIMARY KEY, ${q('Name "x"')} text, ${q('Ünï; --')} text, t text, s text);
  CREATE TABLE ${q(DST)}.${q('Lines')} (
    ${q('Line Key')} text PRIMARY KEY, ${q('User Key')} text, ${q('order')} text, ${q('Deleted?')} boolean NOT NULL DEFAULT false);
`;

let db: TestDatabase;
let config: FerryConfig;
let ferry: FerryProcess | undefined;

beforeAll(async () => {
  db = await createTestDatabase(FILE, SQL);
  config = testConfig(FILE, db, {
    mappings: [
      {
        name: 'hostile_users',
        // The quoted form ...
        source: { table: `"My ""Sales""; --"."Users"`, key: 'Id' },
        target: { table: `"Target Ω"."Users Table"`, key: 'Key' },
        transform: (row) => ({ Key: String(row.Id), 'Name "x"': row.select, 'Ünï; --': row['we"ird; col'], t: row.t, s: row.s }),
      },
      {
        name: 'hostile_lines',
        // ... and the object form.
        source: { table: { schema: SRC, name: 'Order Lines ü' }, key: 'Id' },
        target: { table: { schema: DST, name: 'Lines' }, key: 'Line Key' },
        parents: [{ mapping: 'hostile_users', column: 'User Id' }],
        transform: (row) => ({ 'Line Key': String(row.Id), 'User Key': String(row['User Id']), order: row.from }),
        onDelete: { softDelete: 'Deleted?' },
      },
    ],
  });
  ferry = await startFerry(config);
});

afterAll(async () => {
  await ferry?.stop();
  await db?.drop();
});

const USERS = `${q(SRC)}.${q('Users')}`;
const LINES = `${q(SRC)}.${q('Order Lines ü')}`;

describe('hostile identifiers', () => {
  it('keeps one canonical name per table', () => {
    expect(config.mappings.map((m) => [m.source.table, m.target.table])).toEqual([
      ['"My ""Sales""; --"."Users"', '"Target Ω"."Users Table"'],
      ['"My ""Sales""; --"."Order Lines ü"', '"Target Ω"."Lines"'],
    ]);
  });

  it('migrates, captures and carries parent and child, update and soft delete', async () => {
    // Child first, parent in the same transaction: the child waits for its parent.
    const client = await db.pool.connect();
    let userId: number, lineId: number;
    try {
      await client.query('BEGIN');
      const user = await client.query(
        `INSERT INTO ${USERS} (${q('select')}, ${q('we"ird; col')}, t, s) VALUES ('Ada; DROP', 'x"y', 'tee', 'ess') RETURNING ${q('Id')} AS id`,
      );
      userId = user.rows[0].id;
      const line = await client.query(`INSERT INTO ${LINES} (${q('User Id')}, ${q('from')}) VALUES ($1, 'shop') RETURNING ${q('Id')} AS id`, [
        userId,
      ]);
      lineId = line.rows[0].id;
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const target = async () => (await db.pool.query(`SELECT * FROM ${q(DST)}.${q('Lines')} WHERE ${q('Line Key')} = $1`, [String(lineId)])).rows[0];
    await waitFor('line carried', async () => (await target())?.order === 'shop');
    const user = (await db.pool.query(`SELECT * FROM ${q(DST)}.${q('Users Table')}`)).rows;
    expect(user).toEqual([{ Key: String(userId), 'Name "x"': 'Ada; DROP', 'Ünï; --': 'x"y', t: 'tee', s: 'ess' }]);

    await db.pool.query(`UPDATE ${LINES} SET ${q('from')} = 'web' WHERE ${q('Id')} = $1`, [lineId]);
    await waitFor('line updated', async () => (await target())?.order === 'web');
    await db.pool.query(`DELETE FROM ${LINES} WHERE ${q('Id')} = $1`, [lineId]);
    await waitFor('line soft-deleted', async () => (await target())?.['Deleted?'] === true);

    const settled = await waitForSettled(db.pool);
    expect(settled.filter((l) => l.status === 'failed')).toEqual([]);
    expect(settled.filter((l) => l.status === 'synced').length).toBeGreaterThanOrEqual(3);

    // verify reads both sides' whole rows too: equal, then a difference in t found.
    const mapping = config.mappings[0]!;
    expect(await verifyMapping(db.pool, config, mapping, { batch: 100 })).toMatchObject({ rows: 1, equal: 1, differs: 0, missing: 0 });
    await db.pool.query(`UPDATE ${q(DST)}.${q('Users Table')} SET t = 'changed'`);
    const report = await verifyMapping(db.pool, config, mapping, { batch: 100 });
    expect(report).toMatchObject({ differs: 1 });
    expect(report.examples.differs[0]!.columns).toEqual({ t: ['tee', 'changed'] });
    await db.pool.query(`UPDATE ${q(DST)}.${q('Users Table')} SET t = 'tee'`);
  });

  it('migrate is idempotent on these names (keeps their triggers)', async () => {
    const { migrate } = await import('../src/capture/migrate.js');
    const result = await migrate(db.pool, config);
    expect(result.dropped).toEqual([]);
    await db.pool.query(`UPDATE ${USERS} SET ${q('select')} = 'Grace'`);
    await waitFor(
      'still captured',
      async () => (await db.pool.query(`SELECT 1 FROM ${q(DST)}.${q('Users Table')} WHERE ${q('Name "x"')} = 'Grace'`)).rowCount === 1,
    );
  });

  it('generated names round-trip through Postgres, and the statements run on them', async () => {
    const name = fc
      .oneof(
        fc.string({ minLength: 1, maxLength: 10 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
        fc.constantFrom('select', 'A B', 'x"y', 'a;b', 'a.b', 't', 's', 'r'),
      )
      .filter((s) => identifierProblem(s) === undefined && !s.includes(','));
    const schemaName = name.filter((s) => !/^pg_/i.test(s) && !['ferry', 'portal', 'salesforce', 'public', 'information_schema'].includes(s));
    await fc.assert(
      fc.asyncProperty(schemaName, name, name, name, async (schema, table, key, other) => {
        fc.pre(key !== other);
        const canonical = formatTable({ schema, name: table });
        expect((await db.pool.query('SELECT parse_ident($1) AS parts', [canonical])).rows[0].parts).toEqual([schema, table]);
        await db.pool.query(`CREATE SCHEMA IF NOT EXISTS ${q(schema)}`);
        await db.pool.query(`DROP TABLE IF EXISTS ${quoteTable(canonical)}`);
        await db.pool.query(`CREATE TABLE ${quoteTable(canonical)} (${q(key)} text PRIMARY KEY, ${q(other)} text[])`);
        const found = await db.pool.query(`SELECT to_regclass($1)::oid = $2::regclass::oid AS same`, [canonical, quoteTable(canonical)]);
        expect(found.rows[0].same).toBe(true);
        await db.pool.query(upsertStatement(canonical, key, { [key]: "k'; --", [other]: ['a"', '}{'] }));
        const row = (await db.pool.query(selectRowStatement(canonical, key, "k'; --"))).rows[0].row;
        expect(row).toEqual({ [key]: "k'; --", [other]: ['a"', '}{'] });
        expect((await db.pool.query(deleteStatement(canonical, key, "k'; --"))).rowCount).toBe(1);
        await db.pool.query(`DROP TABLE ${quoteTable(canonical)}`);
      }),
      { numRuns: 25 },
    );
  });
});
