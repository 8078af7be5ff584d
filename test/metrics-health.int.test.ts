// /metrics and /healthz of a running Ferry, on real Postgres and the run's
// real Temporal dev server, including a database outage and a Temporal
// server that does not answer.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
import { freePort } from '../src/net.js';
import type { HealthReport } from '../src/operate/health.js';
import { runFerry, type FerryProcess } from '../src/runtime.js';
import { silentLogger } from '../src/logger.js';
import { createTestDatabase, startFerry, testConfig, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
const ADMIN_URL = inject('adminUrl');

let db: TestDatabase;
let config: FerryConfig;
let ferry: FerryProcess | undefined;

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  config = testConfig(FILE, db, {
    mappings: exampleSubset('users_to_accounts', 'orders_to_orders'),
    // A missing parent waits long: the order below stays pending while we look.
    missingParent: { initialInterval: '1m', maximumAttempts: 100 },
  });
  ferry = await startFerry(config, { serve: true });
});

afterAll(async () => {
  await ferry?.stop();
  await db?.drop();
});

async function health(base: string): Promise<{ status: number; body: HealthReport }> {
  const res = await fetch(`${base}/healthz`);
  return { status: res.status, body: (await res.json()) as HealthReport };
}

async function metrics(): Promise<string> {
  const res = await fetch(`${ferry!.http!.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** The value of one sample, e.g. sample(text, 'ferry_syncs_total{mapping="x",status="synced"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/healthz', () => {
  it('answers 200 when Postgres, Temporal, the listener and the worker are up', async () => {
    const { status, body } = await health(ferry!.http!.url);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      ok: true,
      down: [],
      checks: { postgres: { ok: true }, temporal: { ok: true }, listener: { ok: true }, worker: { ok: true, detail: 'RUNNING' } },
    });
  });

  it('answers 503 naming Postgres and the listener while the database refuses connections, and 200 again after', async () => {
    const name = new URL(db.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [name]);
      const down = await waitFor('503 with postgres and listener down', async () => {
        const h = await health(ferry!.http!.url);
        return h.status === 503 && h.body.down.includes('postgres') && h.body.down.includes('listener') ? h.body : undefined;
      });
      expect(down.ok).toBe(false);
      expect(down.checks.temporal!.ok).toBe(true);
      expect(down.checks.postgres!.detail).not.toBe('up');
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    // The listener reconnects with backoff; then all is well again.
    await waitFor('200 again', async () => (await health(ferry!.http!.url)).status === 200, { timeoutMs: 30_000, intervalMs: 200 });
    expect(sample(await metrics(), 'ferry_listener_reconnects_total')).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 naming Temporal when no Temporal server answers', async () => {
    const unreachable: FerryConfig = { ...config, temporal: { ...config.temporal, address: `127.0.0.1:${await freePort()}` } };
    // Neither half runs, so nothing waits for Temporal: only the checks do.
    const proc = await runFerry({ config: unreachable, logger: silentLogger, listen: false, work: false, http: { port: 0, host: '127.0.0.1' } });
    try {
      const { status, body } = await health(proc.http!.url);
      expect(status).toBe(503);
      expect(body.down).toEqual(['temporal']);
      expect(body.checks.postgres!.ok).toBe(true);
    } finally {
      await proc.stop();
    }
  });
});

describe('/metrics', () => {
  it('counts syncs per mapping, their latency, waits, pending logs, the sweeper and the SDK worker', async () => {
    const { rows } = await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('m@example.com', 'Metric') RETURNING id`);
    await db.pool.query(`INSERT INTO portal.orders (user_id, amount, status) VALUES ($1, 1, 'new')`, [rows[0].id]);
    // An order whose user never arrives: it waits, pending.
    await db.pool.query(`INSERT INTO portal.orders (user_id, amount, status) VALUES (987654, 2, 'new')`);

    await waitFor('user and first order synced, second order waiting', async () => {
      const { rows: l } = await db.pool.query(`SELECT status, waiting_key FROM ferry.database_trigger_log ORDER BY id`);
      return l.length === 3 && l[0].status === 'synced' && l[1].status === 'synced' && l[2].waiting_key === '987654';
    });
    const text = await waitFor('metrics after the syncs', async () => {
      const t = await metrics();
      return sample(t, 'ferry_syncs_total{mapping="orders_to_orders",status="synced"}') === 1 ? t : undefined;
    });
    // The first order may also have waited a moment for its user, when it came first.
    expect(sample(text, 'ferry_parent_waits_total{mapping="orders_to_orders"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'ferry_syncs_total{mapping="users_to_accounts",status="synced"}')).toBe(1);
    expect(sample(text, 'ferry_sync_latency_seconds_count{mapping="users_to_accounts"}')).toBe(1);
    expect(sample(text, 'ferry_sync_latency_seconds_sum{mapping="users_to_accounts"}')).toBeGreaterThan(0);
    expect(sample(text, 'ferry_sync_latency_seconds_bucket{le="+Inf",mapping="orders_to_orders"}')).toBe(1);
    expect(sample(text, 'ferry_pending_logs{mapping="orders_to_orders"}')).toBe(1);
    expect(sample(text, 'ferry_listener_up')).toBe(1);
    expect(sample(text, 'ferry_sweeps_total{reason="start"}')).toBe(1);
    expect(sample(text, 'ferry_dispatched_logs_total{carrier="log"}')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'ferry_claims_released_total')).toBe(0);
    // The Temporal SDK's own worker metrics ride along on the same scrape.
    expect(text).toMatch(/^temporal_\w+/m);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('counts the rows a batch carried, per mapping, as syncs', async () => {
    const before = sample(await metrics(), 'ferry_syncs_total{mapping="users_to_accounts",status="synced"}') ?? 0;
    await db.pool.query(
      `INSERT INTO portal.users (email, full_name) SELECT 'b' || i || '@example.com', 'Batch ' || i FROM generate_series(1, 300) i`,
    );
    const text = await waitFor('300 more users counted', async () => {
      const t = await metrics();
      return (sample(t, 'ferry_syncs_total{mapping="users_to_accounts",status="synced"}') ?? 0) - before === 300 ? t : undefined;
    });
    expect(sample(text, 'ferry_dispatched_logs_total{carrier="batch"}')).toBeGreaterThanOrEqual(1);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM ferry.database_trigger_log WHERE workflow_id LIKE '%-batch-%'`);
    expect(rows[0].n).toBeGreaterThanOrEqual(200); // carried in batches, not one workflow each
  });
});
