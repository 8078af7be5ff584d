// `npm run bench:bulk-floor`: what carrying a burst costs at the least, for
// any design that keeps a log row per change and says in it what happened.
//
// The bench's plain loop (bulk.ts: keyset pages of 500 users, the transform,
// one upsert per page) against the same loop driven by the log instead, with
// only the bookkeeping a log-based carrier cannot skip, added step by step:
// read a page of logs and their source rows, mark each log synced, claim each
// log first (the dispatcher's stamp, what makes a crash recoverable), a row
// lock per log. No Temporal, no supersession, conflict or parent checks: a
// floor under Ferry's figure. Each variant gets a fresh 20,000-row burst
// (captured by Ferry's triggers), then the plain loop on those rows, then
// the variant: ratios are of adjacent runs. BENCH_FLOOR_ROUNDS (default 2).
import type { PoolClient } from 'pg';
import { runPlainLoop, transformAndUpsert } from './bulk.js';
import { benchConfig, createBenchDatabase, migrateBench } from './setup.js';

const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROUNDS = Number(process.env.BENCH_FLOOR_ROUNDS ?? 2);
const ROWS = 20_000;
const PAGE = 500;
const LOG = 'ferry.database_trigger_log';

interface Steps {
  mark: boolean;
  claim: boolean;
  lock: boolean;
}

const VARIANTS: { name: string; steps: Steps }[] = [
  { name: 'read logs + source rows, transform, upsert', steps: { mark: false, claim: false, lock: false } },
  { name: '+ mark each log synced', steps: { mark: true, claim: false, lock: false } },
  { name: '+ claim each log first', steps: { mark: true, claim: true, lock: false } },
  { name: '+ a row lock per log', steps: { mark: true, claim: true, lock: true } },
];

const db = await createBenchDatabase(ADMIN_URL, 'ferry_bench_floor');

/** One page of logs, in one transaction, with the steps asked for; returns how many. */
async function page(c: PoolClient, after: number, steps: Steps): Promise<{ n: number; last: number }> {
  const { rows: logs } = await c.query<{ id: number }>(
    `SELECT id FROM ${LOG} WHERE status = 'pending' AND dispatched_at IS NULL AND id > $1 ORDER BY id LIMIT $2`,
    [after, PAGE],
  );
  if (!logs.length) return { n: 0, last: after };
  const ids = logs.map((l) => l.id);
  if (steps.claim) await c.query(`UPDATE ${LOG} SET dispatched_at = now(), claimed_by = 1, workflow_id = 'floor' WHERE id = ANY($1)`, [ids]);
  const { rows } = await c.query<{ row_key: string; row: Record<string, unknown> }>(
    `SELECT l.row_key, to_jsonb(u) AS row FROM ${LOG} l JOIN portal.users u ON u.id = l.row_key::int WHERE l.id = ANY($1) ORDER BY l.id`,
    [ids],
  );
  if (steps.lock)
    await c.query(`SELECT count(pg_advisory_xact_lock(hashtextextended('portal.users|' || k, 0))) FROM unnest($1::text[]) k`, [
      rows.map((r) => r.row_key),
    ]);
  await transformAndUpsert(c, rows);
  if (steps.mark) await c.query(`UPDATE ${LOG} SET status = 'synced', synced_at = now(), workflow_id = 'floor' WHERE id = ANY($1)`, [ids]);
  return { n: rows.length, last: ids.at(-1)! };
}

try {
  await migrateBench(benchConfig(db.url, '127.0.0.1:7233'));
  const results = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++)
    for (const v of VARIANTS) {
      await db.pool.query(`BEGIN; SET LOCAL ferry.allow_truncate = on; TRUNCATE portal.users, portal.orders, ${LOG} CASCADE; COMMIT`);
      await db.pool.query(
        `INSERT INTO portal.users (email, full_name) SELECT 'bulk' || i || '@example.com', 'bulk ' || i FROM generate_series(1, $1) i`,
        [ROWS],
      );
      await db.pool.query(`ANALYZE ${LOG}`);
      const plain = await runPlainLoop(db.pool, PAGE); // analyzes portal.users
      await db.pool.query('TRUNCATE bench.account_twin');
      const t0 = performance.now();
      let done = 0;
      const c = await db.pool.connect();
      try {
        for (let after = 0, n = 1; n > 0; done += n) {
          await c.query('BEGIN');
          ({ n, last: after } = await page(c, after, v.steps));
          await c.query('COMMIT');
        }
      } finally {
        c.release();
      }
      const rate = done / ((performance.now() - t0) / 1000);
      console.error(`[bulk-floor] ${v.name}: ${rate.toFixed(0)} rows/s, plain loop ${plain.rowsPerSec.toFixed(0)}`);
      results.set(v.name, [...(results.get(v.name) ?? []), rate / plain.rowsPerSec]);
    }
  const width = Math.max(...VARIANTS.map((v) => v.name.length));
  console.log(`\nbulk floor: ${ROWS} rows, pages of ${PAGE}, rate / the plain loop's just before it, ${ROUNDS} rounds (${new Date().toISOString()})`);
  for (const [name, ratios] of results) console.log(`${name.padEnd(width)}  ${ratios.map((r) => r.toFixed(2)).join('  ')}`);
} finally {
  await db.drop();
}
