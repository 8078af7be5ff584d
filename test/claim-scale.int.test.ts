// A claim costs the same at any backlog: each part walks an index in key order
// and stops early (sql/011), never counts or sorts every pending log. And what
// it claims is what the dispatcher expects: singles of mappings without a
// backlog in id order, a batch of one mapping's oldest logs, parents' first.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
import { logTable, withTransaction } from '../src/db/index.js';
import { migrate } from '../src/capture/migrate.js';
import { createTestDatabase, testConfig, type TestDatabase } from './support/harness.js';
import { plansOf } from './support/plans.js';

const FILE = import.meta.url;
const BACKLOG = 50_000;
const FINISHED = 100_000;
let db: TestDatabase;
let config: FerryConfig;

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  config = testConfig(FILE, db, { mappings: exampleSubset('users_to_accounts', 'orders_to_orders') });
  await migrate(db.pool, config);
  // A log as it is after a while: finished logs first, then a backlog of users
  // (written straight into the log: no dispatcher runs here) and a few orders.
  await db.pool.query(
    `INSERT INTO ferry.database_trigger_log (mapping, table_name, op, row_key, status, synced_at, dispatched_at)
     SELECT 'users_to_accounts', 'portal.users', 'INSERT', g::text, 'synced', now(), now() FROM generate_series(1, $1::int) g`,
    [FINISHED],
  );
  await db.pool.query(
    `INSERT INTO ferry.database_trigger_log (mapping, table_name, op, row_key)
     SELECT 'users_to_accounts', 'portal.users', 'INSERT', g::text FROM generate_series(1, $1::int) g`,
    [BACKLOG],
  );
  await db.pool.query(
    `INSERT INTO ferry.database_trigger_log (mapping, table_name, op, row_key)
     SELECT 'orders_to_orders', 'portal.orders', 'INSERT', g::text FROM generate_series(1, 3) g`,
  );
  await db.pool.query('ANALYZE ferry.database_trigger_log');
});
afterAll(() => db?.drop());

it('claim and claimBatch walk the undispatched index and stop early: no sort, no scan of the whole backlog', async () => {
  const claim = await plansOf(db.pool, (q) => logTable.claim(q, { limit: 1000, owner: 1, backlogAbove: 100 }), 'ANALYZE, COSTS OFF');
  const batch = await plansOf(
    db.pool,
    (q) => logTable.claimBatch(q, { limit: 1000, owner: 1 }, ['users_to_accounts'], () => 'b'),
    'ANALYZE, COSTS OFF',
  );
  for (const plan of [claim, batch]) {
    expect(plan).not.toMatch(/Seq Scan on database_trigger_log/);
    expect(plan).not.toMatch(/Sort Key: .*array_position/);
    // No node reads more than a chunk's worth of the 150,000 logs.
    const biggest = Math.max(...[...plan.matchAll(/actual time=\S+ rows=(\d+) loops=(\d+)/g)].map((m) => Number(m[1]) * Number(m[2])));
    expect(biggest).toBeLessThanOrEqual(1001);
  }
  expect(batch).toMatch(/Index Scan using database_trigger_log_undispatched/);
});

it("the dispatcher's bookkeeping (busy parents, logs in batches, the sweep) reads the claimed logs only, never the whole log", async () => {
  // A few batches in flight, as the dispatcher keeps them: 2,000 of the backlog claimed.
  await db.pool.query(
    `UPDATE ferry.database_trigger_log SET dispatched_at = now(), claimed_by = 1, workflow_id = 'ferry-x-batch-' || (id / 1000)
      WHERE id IN (SELECT id FROM ferry.database_trigger_log WHERE status = 'pending' AND mapping = 'users_to_accounts' ORDER BY id LIMIT 2000)`,
  );
  await db.pool.query('ANALYZE ferry.database_trigger_log');
  const pattern = 'ferry-x-batch-%';
  const mappings = ['users_to_accounts', 'orders_to_orders', 'contacts_to_contacts'];
  try {
    const plans = await plansOf(
      db.pool,
      async (q) => {
        await logTable.busyMappings(q, mappings, pattern);
        await logTable.inBatches(q, ['users_to_accounts'], pattern, 1000);
        await logTable.releaseOrphans(q, 300_000);
      },
      'ANALYZE, COSTS OFF',
    );
    expect(plans).not.toMatch(/Seq Scan on database_trigger_log/);
    const biggest = Math.max(...[...plans.matchAll(/actual time=\S+ rows=(\d+) loops=(\d+)/g)].map((m) => Number(m[1]) * Number(m[2])));
    expect(biggest).toBeLessThanOrEqual(2000);
    expect(plans).toMatch(/database_trigger_log_claimed/);
    expect(await logTable.inBatches(db.pool, ['users_to_accounts'], pattern, 1500)).toBe(1500);
    expect(await logTable.inBatches(db.pool, ['users_to_accounts'], pattern, 5000)).toBe(2000);
    expect([...(await logTable.busyMappings(db.pool, mappings, pattern))].sort()).toEqual(['orders_to_orders', 'users_to_accounts']);
  } finally {
    await db.pool.query(`UPDATE ferry.database_trigger_log SET dispatched_at = NULL, claimed_by = NULL, workflow_id = NULL WHERE status = 'pending'`);
  }
});

it('a claim takes the singles of mappings without a backlog and names the backlogs; a batch takes the oldest logs of its mappings, in their order', async () => {
  const { logs, backlog } = await withTransaction(db.pool, (tx) => logTable.claim(tx, { limit: 1000, owner: 7, backlogAbove: 100 }));
  expect(backlog).toEqual(['users_to_accounts']);
  expect(logs.map((l) => [l.mapping, l.row_key])).toEqual([
    ['orders_to_orders', '1'],
    ['orders_to_orders', '2'],
    ['orders_to_orders', '3'],
  ]);
  // Orders are claimed now: a batch of orders, then users, takes only users, the oldest first.
  const batch = await withTransaction(db.pool, (tx) =>
    logTable.claimBatch(tx, { limit: 5, owner: 7 }, ['orders_to_orders', 'users_to_accounts'], (a, b) => `batch-${a}-${b}`),
  );
  expect(batch!.logIds).toEqual([1, 2, 3, 4, 5].map((i) => FINISHED + i));
  const { rows } = await db.pool.query(
    `SELECT count(*)::int AS n FROM ferry.database_trigger_log WHERE workflow_id = $1 AND claimed_by = 7 AND dispatched_at IS NOT NULL`,
    [`batch-${FINISHED + 1}-${FINISHED + 5}`],
  );
  expect(rows[0].n).toBe(5);
  // Under the threshold, the same mapping's logs are singles again.
  const small = await withTransaction(db.pool, (tx) => logTable.claim(tx, { limit: 10, owner: 7, backlogAbove: BACKLOG }));
  expect(small.backlog).toEqual([]);
  expect(small.logs.map((l) => Number(l.id))).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((i) => FINISHED + i));
});
