// Outages are waited out, not crashed through: the Temporal server going away
// and coming back, and Postgres dropping Ferry's connections. Every change
// made meanwhile is carried afterwards.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import { parseConfig, type FerryConfig } from '../src/config.js';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import { freePort } from '../src/net.js';
import type { FerryProcess } from '../src/runtime.js';
import { createTestDatabase, startFerry, testConfig, waitForSettled, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
let db: TestDatabase;
let server: DevServer | undefined;
let ferry: FerryProcess | undefined;
let config: FerryConfig;
let port: number;
const dbFilename = path.join(mkdtempSync(path.join(os.tmpdir(), 'ferry-outage-')), 'temporal.db');

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  // A Temporal server of this file's own, persisted to disk, so it can be stopped and started again.
  port = await freePort();
  server = await startDevServer({ port, headless: true, dbFilename });
  const base = testConfig(FILE, db, { mappings: exampleSubset('users_to_accounts', 'orders_to_orders') });
  config = parseConfig({ ...base, temporal: { ...base.temporal, address: server.address, namespace: 'default' } }, {});
  ferry = await startFerry(config);
});
afterAll(async () => {
  await ferry?.stop();
  await server?.stop();
  await db?.drop();
});

const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
const accounts = async () => Number((await q('SELECT count(*) AS n FROM salesforce.account'))[0].n);

describe('outages', () => {
  it('waits out a Temporal outage and carries what changed during it', async () => {
    await q(`INSERT INTO portal.users (full_name) SELECT 'before ' || g FROM generate_series(1, 5) g`);
    await waitFor('first rows', async () => (await accounts()) === 5);

    await server!.stop();
    await q(`INSERT INTO portal.users (full_name) SELECT 'during ' || g FROM generate_series(1, 10) g`);
    await q(`INSERT INTO portal.orders (user_id, amount, status) SELECT id, 1, 'during' FROM portal.users WHERE full_name LIKE 'during%'`);
    // Nothing is carried, nothing is lost: the changes wait in the log.
    expect(Number((await q(`SELECT count(*) AS n FROM ferry.database_trigger_log WHERE status = 'pending'`))[0].n)).toBe(20);

    server = await startDevServer({ port, headless: true, dbFilename });
    await waitFor('rows written during the outage', async () => (await accounts()) === 15, { timeoutMs: 60_000 });
    await waitFor('orders too', async () => Number((await q(`SELECT count(*) AS n FROM salesforce.order__c`))[0].n) === 10, { timeoutMs: 60_000 });
    const settled = await waitForSettled(db.pool, 60_000);
    expect(settled.filter((l) => l.status !== 'synced')).toEqual([]);
  });

  it("survives Postgres dropping Ferry's connections, listener included, and catches up", async () => {
    const killed = await q(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name IN ('ferry', 'ferry-listener')`,
    );
    expect(killed.length).toBeGreaterThan(0);
    await q(`INSERT INTO portal.users (full_name) SELECT 'after reconnect ' || g FROM generate_series(1, 10) g`);
    await waitFor('rows written while reconnecting', async () => (await accounts()) === 25, { timeoutMs: 30_000 });
    await waitFor('listener back', () => ferry!.listener!.listening);
    const settled = await waitForSettled(db.pool);
    expect(settled.filter((l) => l.status !== 'synced')).toEqual([]);
  });

  it("survives a connection dropped in the middle of a sync's transaction, and carries the row", async () => {
    // What a Postgres restart does to a sync in flight: its transaction's
    // connection (checked out of the pool) is cut while a statement runs.
    // pg then emits 'error' on that client; unheard, it killed the process.
    const holder = await db.pool.connect();
    try {
      // The sync gets as far as its upsert and waits there, inside its transaction.
      await holder.query(`BEGIN; LOCK TABLE salesforce.account IN SHARE MODE`);
      await q(`INSERT INTO portal.users (full_name) VALUES ('cut mid-transaction')`);
      const cut = await waitFor('a sync waiting on the target lock', async () => {
        const rows = await q(
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'ferry' AND wait_event_type = 'Lock'`,
        );
        return rows.length > 0 && rows;
      });
      expect(cut.every((r) => r.ok)).toBe(true);
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    await waitFor('the row carried after the retry', async () => (await accounts()) === 26, { timeoutMs: 30_000 });
    const settled = await waitForSettled(db.pool);
    expect(settled.filter((l) => l.status !== 'synced')).toEqual([]);
  });
});
