// Two-way sync converges: whatever the interleaving of inserts, updates and
// deletes on both sides, every pair ends equal, linked once, with no failed
// logs and a log that stops growing.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleMappings } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
import { withTransaction } from '../src/db/index.js';
import type { FerryProcess } from '../src/runtime.js';
import { createTestDatabase, LANES, logs, startFerry, testConfig, waitForSettled, type TestDatabase } from './support/harness.js';
import { DEPARTMENTS_SQL, departmentProblems, departmentsMapping } from './support/departments.js';
import { orderProblems, pairProblems, problemHistory } from './support/pairs.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
let db: TestDatabase;
let config: FerryConfig;
let ferry: FerryProcess;

const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
const user = async (id: number) => (await q('SELECT * FROM portal.users WHERE id = $1', [id]))[0];
const accountOf = async (userId: number) => (await q('SELECT * FROM salesforce.account WHERE portal_user_id__c = $1', [String(userId)]))[0];

async function settledAndConverged(timeoutMs?: number) {
  const settled = await waitForSettled(db.pool, timeoutMs);
  expect(settled.filter((l) => l.status === 'failed')).toEqual([]);
  const problems = [...(await pairProblems(db.pool)), ...(await orderProblems(db.pool)), ...(await departmentProblems(db.pool))];
  if (problems.length > 0) console.error(`diverged; the logs of those rows:\n${await problemHistory(db.pool, problems)}`);
  expect(await pairProblems(db.pool)).toEqual([]);
  expect(await orderProblems(db.pool)).toEqual([]);
  expect(await departmentProblems(db.pool)).toEqual([]);
  return settled.length;
}

/** FERRY_PROPERTY_SEED replays the schedules of a failure's `seed` (the interleaving is the machine's). */
const seed = () => (process.env.FERRY_PROPERTY_SEED ? Number(process.env.FERRY_PROPERTY_SEED) : undefined);

// Random writes on both sides from several connections at once.
type Op =
  | { kind: 'portalInsert'; name: string; email: string }
  | { kind: 'portalUpdate'; pick: number; name: string; email: string }
  | { kind: 'portalDelete'; pick: number }
  | { kind: 'portalReinsert'; pick: number; name: string }
  | { kind: 'sfInsert'; name: string; email: string }
  | { kind: 'sfUpdate'; pick: number; name: string; email: string }
  | { kind: 'orderInsert'; pick: number; amount: number }
  | { kind: 'orderUpdate'; pick: number; status: string }
  | { kind: 'sfOrderUpdate'; pick: number; status: string }
  // Bulk statements: one statement, 200 to 2,000 rows.
  | { kind: 'bulkPortalInsert'; rows: number; name: string }
  | { kind: 'bulkPortalUpdate'; rows: number; name: string }
  | { kind: 'bulkSfUpdate'; rows: number; email: string }
  | { kind: 'bulkOrderInsert'; rows: number; amount: number }
  | { kind: 'deptTree'; parents: number[]; top: number }
  | { kind: 'deptMove'; pick: number; to: number }
  | { kind: 'deptRename'; pick: number; name: string };

const word = fc.constantFrom('ada', 'bob', 'cy', 'dee', 'eve', 'fay');
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('portalInsert' as const), name: word, email: word }),
  fc.record({ kind: fc.constant('portalUpdate' as const), pick: fc.nat(50), name: word, email: word }),
  fc.record({ kind: fc.constant('portalDelete' as const), pick: fc.nat(50) }),
  fc.record({ kind: fc.constant('portalReinsert' as const), pick: fc.nat(50), name: word }),
  fc.record({ kind: fc.constant('sfInsert' as const), name: word, email: word }),
  fc.record({ kind: fc.constant('sfUpdate' as const), pick: fc.nat(50), name: word, email: word }),
  fc.record({ kind: fc.constant('orderInsert' as const), pick: fc.nat(50), amount: fc.integer({ min: 1, max: 999 }) }),
  fc.record({ kind: fc.constant('orderUpdate' as const), pick: fc.nat(50), status: word }),
  fc.record({ kind: fc.constant('sfOrderUpdate' as const), pick: fc.nat(50), status: word }),
  fc.record({ kind: fc.constant('deptTree' as const), parents: fc.array(fc.nat(50), { minLength: 1, maxLength: 6 }), top: fc.nat(50) }),
  fc.record({ kind: fc.constant('deptMove' as const), pick: fc.nat(50), to: fc.nat(50) }),
  fc.record({ kind: fc.constant('deptRename' as const), pick: fc.nat(50), name: word }),
);

const rows = fc.integer({ min: 200, max: 2000 });
/** The bulk-size schedule: single-row writes mixed with multi-row statements on both sides. */
const bulkOp: fc.Arbitrary<Op> = fc.oneof(
  op,
  fc.record({ kind: fc.constant('bulkPortalInsert' as const), rows, name: word }),
  fc.record({ kind: fc.constant('bulkPortalUpdate' as const), rows, name: word }),
  fc.record({ kind: fc.constant('bulkSfUpdate' as const), rows, email: word }),
  fc.record({ kind: fc.constant('bulkOrderInsert' as const), rows, amount: fc.integer({ min: 1, max: 999 }) }),
);

const deleted: number[] = [];

async function apply(o: Op): Promise<void> {
  // Users with odd ids may be deleted, users with even ids may get orders: a
  // user deleted before it ever reached Salesforce would leave its new order
  // an orphan, which fails by design (test/parents.int.test.ts covers that).
  const pick = (where: string) =>
    `(SELECT id FROM portal.users WHERE ${where} ORDER BY id LIMIT 1 OFFSET $1 % greatest((SELECT count(*) FROM portal.users WHERE ${where}), 1))`;
  const nth = pick('true');
  switch (o.kind) {
    case 'portalInsert':
      return void (await q('INSERT INTO portal.users (full_name, email) VALUES ($1, $2)', [o.name, o.email]));
    case 'portalUpdate':
      return void (await q(`UPDATE portal.users SET full_name = $2, email = $3 WHERE id = ${nth}`, [o.pick, o.name, o.email]));
    case 'portalDelete': {
      const rows = await q(`DELETE FROM portal.users WHERE id = ${pick('id % 2 = 1')} RETURNING id`, [o.pick]);
      deleted.push(...rows.map((r) => r.id));
      return;
    }
    case 'portalReinsert':
      if (deleted.length === 0) return;
      return void (await q('INSERT INTO portal.users (id, full_name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        deleted[o.pick % deleted.length],
        o.name,
      ]));
    case 'sfInsert':
      return void (await q('INSERT INTO salesforce.account (name, email__c) VALUES ($1, $2)', [o.name, o.email]));
    case 'sfUpdate':
      return void (await q(
        `UPDATE salesforce.account SET name = $2, email__c = $3 WHERE id = (SELECT id FROM salesforce.account WHERE NOT isdeleted
           ORDER BY id LIMIT 1 OFFSET $1 % greatest((SELECT count(*) FROM salesforce.account WHERE NOT isdeleted), 1))`,
        [o.pick, o.name, o.email],
      ));
    case 'orderInsert':
      return void (await q(
        `INSERT INTO portal.orders (user_id, amount, status) SELECT id, $2, 'new' FROM portal.users WHERE id = ${pick('id % 2 = 0')}`,
        [o.pick, o.amount],
      ));
    case 'orderUpdate':
      return void (await q(
        `UPDATE portal.orders SET status = $2 WHERE id = (SELECT id FROM portal.orders ORDER BY id LIMIT 1 OFFSET $1 % greatest((SELECT count(*) FROM portal.orders), 1))`,
        [o.pick, o.status],
      ));
    case 'deptTree':
      return insertDepartments(o.parents, o.top);
    case 'deptMove':
      // A parent always has a lower id than its child: no loop, by construction.
      return void (await q(
        `UPDATE portal.departments d SET parent_id = (
           SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n, count(*) OVER () AS c FROM portal.departments p WHERE p.id < d.id) x
            WHERE x.n = 1 + $2 % x.c)
          WHERE d.id = (SELECT id FROM portal.departments ORDER BY id LIMIT 1 OFFSET $1 % greatest((SELECT count(*) FROM portal.departments), 1))`,
        [o.pick, o.to],
      ));
    case 'deptRename':
      return void (await q(
        `UPDATE portal.departments SET name = $2 WHERE id = (SELECT id FROM portal.departments ORDER BY id LIMIT 1 OFFSET $1 % greatest((SELECT count(*) FROM portal.departments), 1))`,
        [o.pick, o.name],
      ));
    case 'sfOrderUpdate':
      return void (await q(
        `UPDATE salesforce.order__c SET status__c = $2 WHERE id = (SELECT id FROM salesforce.order__c ORDER BY id LIMIT 1 OFFSET $1 % greatest((SELECT count(*) FROM salesforce.order__c), 1))`,
        [o.pick, o.status],
      ));
    case 'bulkPortalInsert':
      return void (await q(`INSERT INTO portal.users (full_name, email) SELECT $2 || i, $2 || i || '@x' FROM generate_series(1, $1) i`, [
        o.rows,
        o.name,
      ]));
    case 'bulkPortalUpdate':
      return void (await q(`UPDATE portal.users SET full_name = $2 WHERE id IN (SELECT id FROM portal.users ORDER BY id DESC LIMIT $1)`, [
        o.rows,
        o.name,
      ]));
    case 'bulkSfUpdate':
      return void (await q(
        `UPDATE salesforce.account SET email__c = $2 WHERE id IN (SELECT id FROM salesforce.account WHERE NOT isdeleted ORDER BY id DESC LIMIT $1)`,
        [o.rows, o.email],
      ));
    case 'bulkOrderInsert':
      return void (await q(
        `INSERT INTO portal.orders (user_id, amount, status) SELECT id, $2, 'bulk' FROM portal.users WHERE id % 2 = 0 ORDER BY id DESC LIMIT $1`,
        [o.rows, o.amount],
      ));
  }
}

/**
 * An app's bulk UPDATE can deadlock with another writer of the same rows (the
 * test's other connections, or Ferry's chunk writing them as a target), and
 * Postgres may pick the app's statement to abort: an app retries it.
 */
async function applyAsAnAppWould(o: Op): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await apply(o);
    } catch (err) {
      if ((err as { code?: string }).code !== '40P01' || attempt >= 5) throw err;
    }
  }
}

/**
 * Departments in one statement, children first: new department i (ids taken
 * up front, in order) hangs under a random one with a lower id, an existing
 * one or one of this statement's; the first under `top` (any existing, or none).
 */
async function insertDepartments(parents: number[], top: number): Promise<void> {
  await withTransaction(db.pool, async (client) => {
    const existing = (await client.query('SELECT id FROM portal.departments ORDER BY id')).rows.map((r) => r.id as number);
    const ids = (await client.query(`SELECT nextval('portal.departments_id_seq')::int AS id FROM generate_series(1, $1)`, [parents.length])).rows.map(
      (r) => r.id as number,
    );
    const rows = ids.map((id, i) => {
      const below = [...existing, ...ids.slice(0, i)];
      const parent =
        i === 0 ? (top % 4 === 0 || existing.length === 0 ? null : existing[top % existing.length]!) : below[parents[i]! % below.length]!;
      return [id, parent, `dept ${id}`] as const;
    });
    const values = rows.reverse(); // leaves first
    await client.query(`INSERT INTO portal.departments (id, parent_id, name) SELECT * FROM unnest($1::int[], $2::int[], $3::text[])`, [
      values.map((r) => r[0]),
      values.map((r) => r[1]),
      values.map((r) => r[2]),
    ]);
  });
}

describe.each(LANES)('%s lane', (lane) => {
  beforeAll(async () => {
    db = await createTestDatabase(FILE, DEPARTMENTS_SQL, { lane });
    // The example as it is: users <-> accounts (linking, 'latest' conflicts) and orders <-> order__c
    // (parents); and departments, a table that references itself.
    config = testConfig(FILE, db, { mappings: [...exampleMappings, departmentsMapping] }, lane);
    ferry = await startFerry(config);
    deleted.length = 0;
  });
  afterAll(async () => {
    await ferry?.stop();
    await db?.drop();
  });

  describe('targeted cases', () => {
    it('a delete followed by a re-insert of the same key ends with the re-inserted row', async () => {
      const [{ id }] = await q(`INSERT INTO portal.users (full_name, email) VALUES ('First', 'f@x') RETURNING id`);
      await waitFor('account', async () => (await accountOf(id))?.name === 'First');
      await ferry.stop(); // both changes wait in the log, then race each other
      await q('DELETE FROM portal.users WHERE id = $1', [id]);
      await q(`INSERT INTO portal.users (id, full_name, email) VALUES ($1, 'Second', 's@x')`, [id]);
      ferry = await startFerry(config);
      await settledAndConverged();
      expect(await accountOf(id)).toMatchObject({ name: 'Second', email__c: 's@x', isdeleted: false });
      const mine = (await logs(db.pool, 'users_to_accounts')).filter((l) => l.row_key === String(id)).slice(1);
      expect(mine.map((l) => [l.op, l.status])).toEqual([
        ['DELETE', 'skipped'],
        ['INSERT', 'synced'],
      ]);
    });

    it.each([
      ['portal last', 'salesforce', 'portal'],
      ['salesforce last', 'portal', 'salesforce'],
    ])('conflicting edits on both sides: the change captured last wins, whole (%s)', async (_, first, last) => {
      const [{ id }] = await q(`INSERT INTO portal.users (full_name, email) VALUES ('Pair', 'pair@x') RETURNING id`);
      await waitFor('account', async () => (await accountOf(id))?.name === 'Pair');
      await ferry.stop();
      const edit = {
        portal: () => q(`UPDATE portal.users SET full_name = 'Portal name', email = 'portal@x' WHERE id = $1`, [id]),
        salesforce: () => q(`UPDATE salesforce.account SET name = 'SF name', email__c = 'sf@x' WHERE portal_user_id__c = $1`, [String(id)]),
      };
      await edit[first as 'portal']();
      await edit[last as 'portal']();
      ferry = await startFerry(config);
      await settledAndConverged();
      const expected = last === 'portal' ? { full_name: 'Portal name', email: 'portal@x' } : { full_name: 'SF name', email: 'sf@x' };
      expect(await user(id)).toMatchObject(expected);
      expect(await accountOf(id)).toMatchObject({ name: expected.full_name, email__c: expected.email });
      const loser = (await logs(db.pool, first === 'portal' ? 'users_to_accounts' : 'accounts_to_users')).at(-1)!;
      expect(loser.status).toBe('skipped');
      expect(loser.error).toMatch(/^conflict: lost to \d+ of /);
    });

    it('links an account created in Salesforce to a new portal user, and later edits on either side update that pair', async () => {
      const before = (await logs(db.pool)).length;
      const [{ id: accountId }] = await q(`INSERT INTO salesforce.account (name, email__c) VALUES ('Made in SF', 'sf-made@x') RETURNING id`);
      const linked = await waitFor('linked', async () => {
        const [a] = await q('SELECT portal_user_id__c FROM salesforce.account WHERE id = $1', [accountId]);
        return a.portal_user_id__c ?? undefined;
      });
      const userId = Number(linked);
      expect(await user(userId)).toMatchObject({ full_name: 'Made in SF', email: 'sf-made@x' });
      await q(`UPDATE portal.users SET full_name = 'Renamed in portal' WHERE id = $1`, [userId]);
      await waitFor('account renamed', async () => (await accountOf(userId))?.name === 'Renamed in portal');
      await q(`UPDATE salesforce.account SET email__c = 'new@x' WHERE id = $1`, [accountId]);
      await waitFor('user email', async () => (await user(userId))?.email === 'new@x');
      await settledAndConverged();
      // Three changes by people, three logs: neither the link nor the writes back came round again.
      expect((await logs(db.pool)).length - before).toBe(3);
      expect((await q('SELECT count(*)::int AS n FROM salesforce.account WHERE portal_user_id__c = $1', [linked]))[0].n).toBe(1);
    });
  });

  describe.each([
    // Single-row writes, many per connection; and the bulk-size schedule, few
    // statements of up to 2,000 rows (kept to a few runs: each carries thousands).
    { schedule: 'single-row', ops: op, perConnection: 12, runs: Number(process.env.FERRY_PROPERTY_RUNS ?? 20), settleMs: 60_000 },
    { schedule: 'bulk-size', ops: bulkOp, perConnection: 2, runs: Number(process.env.FERRY_BULK_RUNS ?? 2), settleMs: 240_000 },
  ])('property: random writes on both sides converge ($schedule)', ({ ops, perConnection, runs, settleMs }) => {
    it('every pair equal, linked once, nothing failed, and the log stops growing', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(ops, { minLength: 1, maxLength: perConnection }), { minLength: 3, maxLength: 3 }), async (lanes) => {
          // Three connections write at once, each its own sequence.
          await Promise.all(
            lanes.map(async (lane) => {
              for (const o of lane) await applyAsAnAppWould(o);
            }),
          );
          const count = await settledAndConverged(settleMs);
          // A fence change: exactly one more log when it is carried, so nothing echoes.
          const [{ id }] = await q(`INSERT INTO portal.users (full_name, email) VALUES ('fence', 'fence@x') RETURNING id`);
          await waitFor('fence carried', async () => (await accountOf(id))?.name === 'fence');
          expect(await settledAndConverged(settleMs)).toBe(count + 1);
        }),
        // The database carries over from run to run, so shrinking would not replay a failure: report it as found.
        { numRuns: runs, verbose: 1, endOnFailure: true, seed: seed() },
      );
      // The schedules did reach every kind of row.
      const [counts] = await q(`SELECT (SELECT count(*) FROM salesforce.order__c)::int AS orders,
                                       (SELECT count(*) FROM salesforce.account WHERE isdeleted)::int AS deleted,
                                       (SELECT count(*) FROM portal.departments d JOIN portal.departments p ON p.id = d.parent_id
                                                                               JOIN portal.departments g ON g.id = p.parent_id)::int AS deep`);
      expect(counts.orders).toBeGreaterThan(0);
      expect(counts.deleted).toBeGreaterThan(0);
      expect(counts.deep).toBeGreaterThan(0); // departments three levels deep
    }, 600_000);
  });
});
