import type { Client as TemporalClient } from '@temporalio/client';
import pg from 'pg';
import { exampleMappings } from '../example/mappings.js';
import type { Pool } from '../src/db/index.js';
import { upsertManyStatement } from '../src/statements.js';
import { lastLogId, phaseLogs } from './logs.js';
import { percentile, sampleRss } from './stats.js';

export interface BulkBurstResult {
  rows: number;
  rowsPerSec: number;
  /** Logs that left their batch for a syncLog of their own. */
  ownWorkflows: number;
  /** Temporal history events of every workflow that carried the burst, per row. */
  eventsPerChange: number;
  /** Single-row inserts into portal.orders at `liveRate`/s meanwhile: commit -> synced. */
  live: { count: number; p50: number; p99: number };
  peakRss: number;
  statuses: Record<string, number>;
}

/**
 * One INSERT ... SELECT of `rows` users (a data import), while single-row
 * orders arrive at `liveRate` per second on another mapping; waits until
 * Ferry has carried every log.
 */
export async function runBulkBurst(pool: Pool, url: string, temporal: TemporalClient, rows: number, liveRate: number): Promise<BulkBurstResult> {
  // A user whose account is there, for the live orders to point at.
  const { rows: parent } = await pool.query<{ id: number }>(
    `INSERT INTO portal.users (email, full_name) VALUES ('live@x', 'live parent') RETURNING id`,
  );
  await waitUntil(pool, `SELECT 1 FROM salesforce.account WHERE portal_user_id__c = '${parent[0]!.id}'`, 30_000);
  const after = await lastLogId(pool);
  const rss = sampleRss();
  const live = new pg.Client({ connectionString: url, application_name: 'ferry-bench-live' });
  await live.connect();
  let writing = true;
  const liveWriter = (async () => {
    const t0 = performance.now();
    for (let i = 0; writing; i++) {
      const wait = t0 + (i * 1000) / liveRate - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await live.query(`INSERT INTO portal.orders (user_id, amount, status) VALUES ($1, $2, 'live')`, [parent[0]!.id, i]);
    }
  })();
  let peakRss: number;
  try {
    await pool.query(`INSERT INTO portal.users (email, full_name) SELECT 'bulk' || i || '@example.com', 'bulk ' || i FROM generate_series(1, $1) i`, [
      rows,
    ]);
    await waitUntil(
      pool,
      `SELECT 1 WHERE (SELECT count(*) FROM ferry.database_trigger_log WHERE id > ${after} AND mapping = 'users_to_accounts' AND status <> 'pending') >= ${rows}`,
      120_000 + rows * 20,
    );
  } finally {
    writing = false;
    await liveWriter;
    await live.end();
    peakRss = rss.stop();
  }
  await waitUntil(pool, `SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM ferry.database_trigger_log WHERE id > ${after} AND status = 'pending')`, 60_000);
  const burst = await phaseLogs(pool, after, 'users_to_accounts');
  const orders = await phaseLogs(pool, after, 'orders_to_orders');
  const carriers = await pool.query<{ workflow_id: string; n: number }>(
    `SELECT workflow_id, count(*)::int AS n FROM ferry.database_trigger_log WHERE id > $1 AND mapping = 'users_to_accounts' GROUP BY 1`,
    [after],
  );
  let events = 0;
  for (const c of carriers.rows) events += (await temporal.workflow.getHandle(c.workflow_id).fetchHistory()).events?.length ?? 0;
  return {
    rows,
    rowsPerSec: rows / burst.spanSec,
    ownWorkflows: carriers.rows.filter((c) => !c.workflow_id.includes('-batch-')).reduce((n, c) => n + c.n, 0),
    eventsPerChange: events / rows,
    live: { count: orders.latencies.length, p50: percentile(orders.latencies, 50), p99: percentile(orders.latencies, 99) },
    peakRss,
    statuses: burst.statuses,
  };
}

/**
 * The same rows through the same transform and a plain upsert, in a Node
 * loop: keyset pages of 500 read with pg, transformed, written in one
 * statement per page into a twin of salesforce.account. No log, no Temporal.
 */
export async function runPlainLoop(pool: Pool, batch = 500): Promise<{ rows: number; rowsPerSec: number }> {
  await pool.query(`TRUNCATE bench.account_twin`);
  // Fresh statistics, as a table an app has used for a while has: with the
  // burst's rows not yet analyzed, `--only burst` planned each page as a scan
  // and sort of the whole table, far slower than an app's analyzed table.
  await pool.query(`ANALYZE portal.users`);
  const t0 = performance.now();
  let done = 0;
  for (let after = 0; ;) {
    const { rows } = await pool.query<{ id: number; row: Record<string, unknown> }>(
      `SELECT id, to_jsonb(u) AS row FROM portal.users u WHERE id > $1 AND full_name LIKE 'bulk %' ORDER BY id LIMIT $2`,
      [after, batch],
    );
    if (!rows.length) break;
    await transformAndUpsert(pool, rows);
    done += rows.length;
    after = rows[rows.length - 1]!.id;
  }
  return { rows: done, rowsPerSec: done / ((performance.now() - t0) / 1000) };
}

/** The plain loop's work on one page: users_to_accounts' transform, one upsert into the twin of salesforce.account. */
export async function transformAndUpsert(db: { query: Pool['query'] }, rows: { row: Record<string, unknown> }[]): Promise<void> {
  const mapping = exampleMappings[0]!;
  const out = await Promise.all(rows.map((r) => mapping.transform(r.row, { op: 'INSERT', logId: 0, mapping: mapping.name, parents: {} })));
  const targets = out.filter((o): o is Record<string, unknown> => o !== null);
  await db.query(upsertManyStatement('bench.account_twin', 'portal_user_id__c', Object.keys(targets[0]!), targets));
}

export interface ParentsChildrenResult {
  parents: number;
  children: number;
  synced: number;
  /** Children whose log was synced before their parent's. */
  childBeforeParent: number;
  ownWorkflows: number;
  seconds: number;
}

/** `parents` users and `children` orders in one transaction, orders first: batches go parents first. */
export async function runParentsAndChildren(pool: Pool, parents: number, children: number, base: number): Promise<ParentsChildrenResult> {
  const after = await lastLogId(pool);
  const client = await pool.connect();
  const t0 = performance.now();
  try {
    await client.query('BEGIN');
    await client.query(`INSERT INTO portal.orders (user_id, amount, status) SELECT $1 + i % $2, i, 'bulk' FROM generate_series(1, $3) i`, [
      base,
      parents,
      children,
    ]);
    await client.query(
      `INSERT INTO portal.users (id, email, full_name) SELECT $1 + i, 'pc' || i || '@x', 'pc ' || i FROM generate_series(0, $2 - 1) i`,
      [base, parents],
    );
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  await waitUntil(pool, `SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM ferry.database_trigger_log WHERE id > ${after} AND status = 'pending')`, 300_000);
  const seconds = (performance.now() - t0) / 1000;
  const { rows } = await pool.query<{ synced: number; early: number; own: number }>(
    `SELECT count(*) FILTER (WHERE c.status = 'synced')::int AS synced,
            count(*) FILTER (WHERE c.synced_at < p.synced_at)::int AS early,
            count(*) FILTER (WHERE c.workflow_id NOT LIKE '%-batch-%')::int AS own
       FROM ferry.database_trigger_log c
       -- Statement capture keeps no new_row: the order's user comes from the source row.
       JOIN portal.orders o ON o.id::text = c.row_key
       JOIN ferry.database_trigger_log p ON p.id > $1 AND p.mapping = 'users_to_accounts' AND p.row_key = o.user_id::text
      WHERE c.id > $1 AND c.mapping = 'orders_to_orders'`,
    [after],
  );
  const r = rows[0]!;
  return { parents, children, synced: r.synced, childBeforeParent: r.early, ownWorkflows: r.own, seconds };
}

async function waitUntil(pool: Pool, sql: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await pool.query(sql)).rows.length === 0) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${sql}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
