// Children waiting on long durable timers (1 h): what wakes them is the
// parent's own sync or forceRetry, never the timer, and they survive a worker
// that is killed while they wait.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FerryConfig } from '../src/config.js';
import { startSyncWorkflow } from '../src/dispatch/dispatcher.js';
import { silentLogger } from '../src/logger.js';
import { retryLog } from '../src/operate/retry.js';
import { connectClient } from '../src/temporal/client.js';
import type { FerryProcess } from '../src/runtime.js';
import { stateQuery, syncLogWorkflowId } from '../src/contract/index.js';
import { chainMappings, insertOrderThenUser, ORDER_LINES_SQL } from './support/chain.js';
import { spawnCli, writeCliConfig } from './support/cli.js';
import { createTestDatabase, logs, startFerry, testConfig, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
let db: TestDatabase;
let config: FerryConfig;
let ferry: FerryProcess | undefined;
const extra: FerryProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase(FILE, ORDER_LINES_SQL);
  config = testConfig(FILE, db, {
    missingParent: { initialInterval: '1h', backoffCoefficient: 2, maximumInterval: '1h', maximumAttempts: 100 },
    mappings: chainMappings,
  });
  ferry = await startFerry(config);
});
afterAll(async () => {
  for (const p of [ferry, ...extra]) await p?.stop();
  await db?.drop();
});

const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
const orderLog = async (orderId: number) => (await logs(db.pool, 'orders_to_orders')).find((l) => l.row_key === String(orderId))!;
const waiting = (orderId: number) =>
  waitFor(
    `order ${orderId} waiting`,
    async () => {
      const l = await orderLog(orderId);
      return l.status === 'pending' && l.attempts >= 1 ? l : undefined;
    },
    { timeoutMs: 45_000 },
  );
const newOrder = async (userId: number) =>
  (await q(`INSERT INTO portal.orders (user_id, amount, status) VALUES ($1, 1, 'new') RETURNING id`, [userId]))[0].id as number;

describe('a child waiting for its parent', () => {
  it('shows where it is: query state, search attribute FerryState, attempts on the log row', async () => {
    const orderId = await newOrder(8001);
    const log = await waiting(orderId);
    const handle = ferry!.client!.workflow.getHandle(syncLogWorkflowId(config.instance, log.id));
    const state = await waitFor('state waiting_parent', async () => {
      const s = await handle.query(stateQuery);
      return s.state === 'waiting_parent' ? s : undefined;
    });
    expect(state.waitingFor).toEqual({ mapping: 'users_to_accounts', table: 'portal.users', column: 'user_id', logId: null }); // no key: it is row data
    expect(state.attempts).toBeGreaterThanOrEqual(1);
    const next = Date.parse(state.nextAttemptAt!) - Date.now();
    expect(next).toBeGreaterThan(50 * 60_000);
    const found = await waitFor('visible in a FerryState query', async () => {
      const ids: string[] = [];
      for await (const wf of ferry!.client!.workflow.list({ query: `FerryState = "waiting_parent" AND FerryMapping = "orders_to_orders"` }))
        ids.push(wf.workflowId);
      return ids.includes(syncLogWorkflowId(config.instance, log.id)) ? ids : undefined;
    });
    expect(found).toContain(syncLogWorkflowId(config.instance, log.id));
  });

  it('follows a late parent within about a second, though its timer is an hour', async () => {
    const orderId = await newOrder(8002);
    await waiting(orderId);
    await q(`INSERT INTO portal.users (id, full_name) VALUES (8002, 'Late')`);
    await waitFor('child synced', async () => (await orderLog(orderId)).status === 'synced', { timeoutMs: 10_000 });
    const [{ lag }] = await q(
      `SELECT extract(epoch FROM c.synced_at - p.created_at) * 1000 AS lag
         FROM ferry.database_trigger_log c, ferry.database_trigger_log p
        WHERE c.mapping = 'orders_to_orders' AND c.row_key = $1 AND p.mapping = 'users_to_accounts' AND p.row_key = '8002'`,
      [String(orderId)],
    );
    expect(Number(lag)).toBeLessThan(3000);
  });

  it('syncs a child written before its parent in one transaction without waiting for its timer', async () => {
    const orderId = await insertOrderThenUser(db.pool, 8010);
    // The timer is an hour: only the parent's own sync (child workflow, or its signal) can explain this.
    await waitFor('child synced', async () => (await orderLog(orderId)).status === 'synced', { timeoutMs: 10_000 });
  });

  it('wakes at once on forceRetry (ferry retry) when its parent appeared outside Ferry', async () => {
    const orderId = await newOrder(8003);
    const log = await waiting(orderId);
    // The connector writes the parent straight into the target: no parent log, nobody to wake the child.
    await q(`INSERT INTO salesforce.account (portal_user_id__c, name) VALUES ('8003', 'Made in Salesforce')`);
    expect((await orderLog(orderId)).status).toBe('pending');
    expect(await retryLog(db.pool, ferry!.client!, config, log.id)).toBe('signalled');
    await waitFor('child synced', async () => (await orderLog(orderId)).status === 'synced', { timeoutMs: 5000 });
  });

  it("wakes on forceRetry while it waits inside its parent's child workflow", async () => {
    // A worker and no listener: nothing dispatches the order's log, so the
    // line's workflow starts the order's workflow itself, as a child, and the
    // order waits (an hour) for a user who never comes.
    await ferry!.stop();
    ferry = await startFerry(config, { listen: false });
    const client = await connectClient(config, silentLogger);
    try {
      await q(`INSERT INTO portal.orders (id, user_id, amount, status) VALUES (9001, 8020, 1, 'new')`);
      await q(`INSERT INTO portal.order_lines (id, order_id, sku) VALUES (9101, 9001, 'SKU')`);
      const line = (await logs(db.pool, 'lines_to_lines')).find((l) => l.row_key === '9101')!;
      await startSyncWorkflow(client, config, { instance: config.instance, logId: line.id, mapping: 'lines_to_lines', table: 'portal.order_lines' });
      await waiting(9001);
      await waitFor('line waiting', async () => (await logs(db.pool, 'lines_to_lines')).find((l) => l.id === line.id)!.attempts >= 1);
      // The order reaches Salesforce another way; the line is told to look again.
      await q(`INSERT INTO salesforce.order__c (portal_order_id__c, account__r__portal_user_id__c) VALUES ('9001', '8020')`);
      expect(await retryLog(db.pool, client, config, line.id)).toBe('signalled');
      await waitFor('line synced', async () => (await logs(db.pool, 'lines_to_lines')).find((l) => l.id === line.id)!.status === 'synced', {
        timeoutMs: 10_000,
      });
      expect((await orderLog(9001)).status).toBe('pending'); // its own wait goes on
    } finally {
      await client.connection.close();
      await ferry!.stop();
      ferry = await startFerry(config);
    }
  });

  it('survives a killed worker: every waiting child syncs once the parent comes', async () => {
    // Listener here; the worker in its own process, so it can be killed for real.
    await ferry!.stop();
    ferry = await startFerry(config, { work: false });
    const worker = spawnWorker();
    const orders: number[] = [];
    try {
      for (let i = 0; i < 5; i++) orders.push(await newOrder(8004));
      for (const id of orders) await waiting(id);
      worker.kill('SIGKILL');
      await new Promise((r) => worker.once('exit', r));
    } finally {
      worker.kill('SIGKILL');
    }
    extra.push(await startFerry(config, { listen: false }));
    await q(`INSERT INTO portal.users (id, full_name) VALUES (8004, 'After the crash')`);
    await waitFor('every child synced', async () => {
      const mine = (await logs(db.pool, 'orders_to_orders')).filter((l) => orders.includes(Number(l.row_key)));
      return mine.length === 5 && mine.every((l) => l.status === 'synced');
    });
    const [{ n }] = await q(`SELECT count(*)::int AS n FROM salesforce.order__c WHERE account__r__portal_user_id__c = '8004'`);
    expect(n).toBe(5);
  });
});

/** `ferry worker` in a process of its own, with this file's config. */
function spawnWorker() {
  const file = writeCliConfig(
    'waiting.config.ts',
    {
      database: config.database,
      temporal: config.temporal,
      missingParent: { initialInterval: '1h', maximumInterval: '1h', maximumAttempts: 100 },
      metrics: false,
    },
    'chainMappings',
  );
  return spawnCli(['worker', '--config', file], { FERRY_LOG_LEVEL: 'warn' }).child;
}
