// Bursts go in syncBatch workflows: many logs per workflow and per transaction,
// the same rules as a single sync, and a row that cannot finish leaves the
// batch for its own syncLog workflow.
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleMappings } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
import type { FerryProcess } from '../src/runtime.js';
import { syncLogWorkflowId } from '../src/contract/index.js';
import { CAPTURE_MODES, createTestDatabase, startFerry, testConfig, waitForSettled, type TestDatabase } from './support/harness.js';
import { orderProblems, pairProblems } from './support/pairs.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
describe.each(CAPTURE_MODES)('%s capture', (mode) => {
  let db: TestDatabase;
  let config: FerryConfig;
  let ferry: FerryProcess;
  let temporal: Client;

  beforeAll(async () => {
    db = await createTestDatabase(FILE, '', { mode });
    config = testConfig(FILE, db, {
      listener: { sweepInterval: '1s', redispatchAfter: '1m', batchSize: 200, batchThreshold: 50 },
      mappings: exampleMappings.map((m) =>
        m.name === 'users_to_accounts'
          ? {
              ...m,
              transform: (row, ctx) => {
                if (row.full_name === 'bad') throw new Error(`user ${row.id} has a bad name`);
                return m.transform(row, ctx);
              },
            }
          : m,
      ),
    });
    ferry = await startFerry(config);
    temporal = new Client({ connection: await Connection.connect({ address: config.temporal.address }), namespace: config.temporal.namespace });
  });
  afterAll(async () => {
    await temporal?.connection.close();
    await ferry?.stop();
    await db?.drop();
  });

  const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
  const carriers = async (mapping: string) =>
    q(`SELECT workflow_id, count(*)::int AS n FROM ferry.database_trigger_log WHERE mapping = $1 GROUP BY 1 ORDER BY 1`, [mapping]);

  describe('a burst', () => {
    it('goes in batches of at most batchSize, ends equal, and costs few history events per change', async () => {
      await q(`INSERT INTO portal.users (full_name, email) SELECT 'User ' || i, 'u' || i || '@x' FROM generate_series(1, 1000) i`);
      const settled = await waitForSettled(db.pool);
      expect(settled.filter((l) => l.status !== 'synced')).toEqual([]);
      expect(await pairProblems(db.pool)).toEqual([]);
      const batches = await carriers('users_to_accounts');
      expect(batches.filter((b) => !/^ferry-.+-batch-\d+-\d+$/.test(b.workflow_id) || b.n > 200)).toEqual([]);
      const history = await temporal.workflow.getHandle(batches[0]!.workflow_id).fetchHistory();
      expect(history.events!.length / batches[0]!.n).toBeLessThanOrEqual(0.1);
    });

    it('with parents and children in one transaction, children first, carries parents first', async () => {
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`INSERT INTO portal.orders (user_id, amount, status) SELECT 100000 + i % 100, i, 'new' FROM generate_series(1, 400) i`);
        await client.query(
          `INSERT INTO portal.users (id, full_name, email) SELECT 100000 + i, 'Parent ' || i, 'p' || i || '@x' FROM generate_series(0, 99) i`,
        );
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      const settled = await waitForSettled(db.pool);
      expect(settled.filter((l) => l.status === 'failed')).toEqual([]);
      expect(await orderProblems(db.pool)).toEqual([]);
      const own = (await carriers('orders_to_orders')).filter((b) => /-log-\d+$/.test(b.workflow_id));
      expect(own.length).toBeLessThanOrEqual(4); // ≤ 1% in their own waiting workflow
    });

    it('a row that fails leaves the batch for its own syncLog; the others are carried', async () => {
      await q(
        `INSERT INTO portal.users (full_name, email) SELECT CASE WHEN i = 77 THEN 'bad' ELSE 'Row ' || i END, 'r' || i || '@x' FROM generate_series(1, 120) i`,
      );
      const settled = await waitForSettled(db.pool);
      const failed = settled.filter((l) => l.status === 'failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]!.error).toMatch(/has a bad name/);
      const [row] = await q(`SELECT workflow_id FROM ferry.database_trigger_log WHERE id = $1`, [failed[0]!.id]);
      expect(row.workflow_id).toBe(syncLogWorkflowId(config.instance, failed[0]!.id));
      await waitFor('its own workflow failed', async () => (await temporal.workflow.getHandle(row.workflow_id).describe()).status.name === 'FAILED');
      // It reads like any other sync in the Web UI's list: mapping and log.
      expect(await (await temporal.workflow.getHandle(row.workflow_id).describe()).staticSummary()).toBe(`users_to_accounts log ${failed[0]!.id}`);
      expect(settled.filter((l) => l.mapping === 'users_to_accounts' && l.status === 'synced').length).toBeGreaterThanOrEqual(1119);
    });

    it('a live change on another mapping is carried on its own while a burst drains', async () => {
      await q(`INSERT INTO portal.users (full_name, email) SELECT 'Later ' || i, 'l' || i || '@x' FROM generate_series(1, 600) i`);
      const [{ id }] = await q(`INSERT INTO salesforce.order__c (portal_order_id__c, amount__c, status__c) VALUES (NULL, 1, 'x') RETURNING id`);
      await waitForSettled(db.pool);
      const [log] = await q(`SELECT workflow_id, status FROM ferry.database_trigger_log WHERE mapping = 'orders_from_salesforce' AND row_key = $1`, [
        String(id),
      ]);
      expect(log).toEqual({ workflow_id: expect.stringMatching(/-log-\d+$/), status: 'skipped' });
      const [{ n }] = await q(
        `SELECT count(*)::int AS n FROM portal.users u JOIN salesforce.account a ON a.portal_user_id__c = u.id::text AND a.name = u.full_name WHERE u.full_name LIKE 'Later %'`,
      );
      expect(n).toBe(600);
    });
  });
});
