// Poison: input that no retry can fix fails its own log with the reason,
// quickly, in both lanes; a batch carries every other row
// (docs/trust-boundary.md, "Bad input").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import poison from './support/poison-mappings.js';
import type { FerryProcess } from '../src/runtime.js';
import { createTestDatabase, LANES, logs, startFerry, testConfig, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;

// The source key is NOT NULL but not unique (Ferry accepts that table); the
// target has a btree on v and a trigger that refuses some rows, quoting them.
const SQL = `
  CREATE TABLE portal.p (id int NOT NULL, kind text, v text);
  CREATE TABLE salesforce.p (id text PRIMARY KEY, kind text, v text);
  CREATE UNIQUE INDEX ON salesforce.p (v);
  CREATE FUNCTION salesforce.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.kind = 'trigger' THEN RAISE '% taken', NEW.v; END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON salesforce.p FOR EACH ROW EXECUTE FUNCTION salesforce.refuse();
  CREATE TABLE portal.q (id int PRIMARY KEY);
  CREATE TABLE salesforce.q (id text PRIMARY KEY);
`;

// The transforms run in threads that import this module themselves.
const MODULE = new URL('./support/poison-mappings.ts', import.meta.url).href;

// A value a btree index entry cannot hold (about 2,700 bytes), that does not compress.
const HUGE = `(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 400))`;

const CASES: { name: string; id: number; insert: string; reason: RegExp }[] = [
  {
    name: 'a source key that is not unique (21000)',
    id: 1001,
    insert: `INSERT INTO portal.p VALUES (1001, 'ok', 'a'), (1001, 'ok', 'b')`,
    reason: /SQLSTATE 21000/,
  },
  {
    name: 'a value over the btree size limit (54000)',
    id: 1002,
    insert: `INSERT INTO portal.p VALUES (1002, 'ok', ${HUGE})`,
    reason: /SQLSTATE 54000/,
  },
  {
    name: 'a target trigger that raises (P0001)',
    id: 1003,
    insert: `INSERT INTO portal.p VALUES (1003, 'trigger', 'someone@example.com')`,
    reason: /SQLSTATE P0001/,
  },
  {
    name: 'a circular object from the transform',
    id: 1004,
    insert: `INSERT INTO portal.p VALUES (1004, 'circular', 'x')`,
    reason: /column "kind".*circular/,
  },
  {
    name: 'undefined from the transform',
    id: 1005,
    insert: `INSERT INTO portal.p VALUES (1005, 'undefined', 'x')`,
    reason: /column "v".*undefined/,
  },
  { name: 'NaN from the transform', id: 1006, insert: `INSERT INTO portal.p VALUES (1006, 'nan', 'x')`, reason: /column "v".*NaN/ },
  {
    name: 'a function from the transform (it cannot leave its thread)',
    id: 1007,
    insert: `INSERT INTO portal.p VALUES (1007, 'function', 'x')`,
    reason: /column "v".*a function/,
  },
];

describe.each(LANES)('poison (%s lane)', (lane) => {
  let db: TestDatabase;
  let ferry: FerryProcess | undefined;
  const newest = async (id: number) => (await logs(db.pool, 'p')).filter((l) => l.row_key === String(id)).at(-1);

  beforeAll(async () => {
    db = await createTestDatabase(FILE, SQL, { lane });
    const config = testConfig(FILE, db, { mappings: poison.mappings, transforms: { isolation: 'thread', threads: 2, module: MODULE } }, lane);
    ferry = await startFerry(config);
  });

  afterAll(async () => {
    await ferry?.stop();
    await db?.drop();
  });

  it.each(CASES)('$name fails its log within 10 s, with the reason', async ({ id, insert, reason }) => {
    await db.pool.query(insert);
    const log = await waitFor(`log of ${id} failed`, async () => ((await newest(id))?.status === 'failed' ? newest(id) : undefined), {
      timeoutMs: 10_000,
    });
    expect(log!.error).toMatch(reason);
    expect((await db.pool.query('SELECT 1 FROM salesforce.p WHERE id = $1', [String(id)])).rowCount).toBe(0);
  });

  it('a looping transform fails by its timeout within 10 s, while rows of another mapping sync in the same process', async () => {
    const started = Date.now();
    await db.pool.query(`INSERT INTO portal.p VALUES (1100, 'loop', 'x')`);
    await db.pool.query(`INSERT INTO portal.q SELECT i FROM generate_series(1, 5) i`);
    // Single lane: polled no longer than the loop's transformTimeout (5s), while the loop holds its thread.
    // Batch lane: q's chunk may wait for the looping chunk's batch slot, not for its thread.
    await waitFor('rows of q synced', async () => (await db.pool.query(`SELECT count(*)::int AS n FROM salesforce.q`)).rows[0].n === 5, {
      timeoutMs: lane === 'single' ? 5_000 : 10_000,
    });
    const during = (await newest(1100))!;
    if (lane === 'single') expect(during.status, `q synced ${Date.now() - started} ms after the loop began`).toBe('pending');
    const log = await waitFor('the loop failed', async () => ((await newest(1100))?.status === 'failed' ? newest(1100) : undefined), {
      timeoutMs: Math.max(10_000 - (Date.now() - started), 1),
    });
    expect(log!.error).toBe('transform of p did not finish within 5000 ms (transformTimeout)');
    expect((await db.pool.query('SELECT 1 FROM salesforce.p WHERE id = $1', ['1100'])).rowCount).toBe(0);
    // And the process goes on: a row of p after the loop is carried (its thread replaced meanwhile).
    await db.pool.query(`INSERT INTO portal.p VALUES (1101, 'ok', 'after the loop')`);
    await waitFor('a row after the loop synced', async () => (await newest(1101))?.status === 'synced', { timeoutMs: 20_000 });
  });

  it('a value whose class has toJSON crosses as toJSON() returns it', async () => {
    await db.pool.query(`INSERT INTO portal.p VALUES (1200, 'money', 'x')`);
    await waitFor('log synced', async () => (await newest(1200))?.status === 'synced', { timeoutMs: 20_000 });
    expect((await db.pool.query('SELECT v FROM salesforce.p WHERE id = $1', ['1200'])).rows[0].v).toBe('12.50');
  });

  it.runIf(lane === 'batch')('a 1,000-row batch with one poison row carries the other 999', async () => {
    await db.pool.query(
      `INSERT INTO portal.p SELECT i, CASE WHEN i = 10500 THEN 'trigger' ELSE 'ok' END, 'v' || i FROM generate_series(10001, 11000) i`,
    );
    await waitFor(
      '999 rows carried',
      async () => (await db.pool.query(`SELECT count(*)::int AS n FROM salesforce.p WHERE id::int > 10000`)).rows[0].n === 999,
      {
        timeoutMs: 30_000,
      },
    );
    const log = await waitFor('the poison row failed', async () => ((await newest(10500))?.status === 'failed' ? newest(10500) : undefined));
    expect(log!.error).toMatch(/SQLSTATE P0001/);
  });
});
