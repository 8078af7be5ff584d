// Parent before child, with short missing-parent backoff: ordering in one
// transaction, chains, and an orphan that fails clearly and is retried.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowFailedError } from '@temporalio/client';
import type { FerryConfig } from '../src/config.js';
import { syncLogWorkflowId } from '../src/contract/index.js';
import type { FerryProcess } from '../src/runtime.js';
import { chainMappings, insertOrderThenUser, ORDER_LINES_SQL } from './support/chain.js';
import { runCli, writeCliConfig } from './support/cli.js';
import { createTestDatabase, VARIANTS, logs, startFerry, testConfig, waitForSettled, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
let db: TestDatabase;
let config: FerryConfig;
let ferry: FerryProcess;

const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
const orderTarget = async (orderId: number) => (await q('SELECT * FROM salesforce.order__c WHERE portal_order_id__c = $1', [String(orderId)]))[0];
const logOf = async (mapping: string, key: number) => (await logs(db.pool, mapping)).filter((l) => l.row_key === String(key));

describe.each(VARIANTS)('$lane lane, $mode capture', ({ lane, mode }) => {
  beforeAll(async () => {
    db = await createTestDatabase(FILE, ORDER_LINES_SQL, { lane, mode });
    config = testConfig(
      FILE,
      db,
      {
        missingParent: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '800ms', maximumAttempts: 4 },
        mappings: chainMappings,
      },
      lane,
    );
    ferry = await startFerry(config);
  });
  afterAll(async () => {
    await ferry?.stop();
    await db?.drop();
  });

  describe('a child whose parent is not in the target yet', () => {
    it('syncs after its parent when both come in one transaction, child first', async () => {
      const orderId = await insertOrderThenUser(db.pool, 5001);
      await waitFor('order synced', async () => (await orderTarget(orderId))?.account__r__portal_user_id__c === '5001');
      await waitForSettled(db.pool);
      const [child] = await logOf('orders_to_orders', orderId);
      expect(child!.status).toBe('synced');
      expect((await logOf('users_to_accounts', 5001))[0]!.status).toBe('synced');
    });

    it('syncs a three-level chain written in reverse order', async () => {
      await q(`INSERT INTO portal.order_lines (id, order_id, sku) VALUES (7001, 6001, 'SKU-1')`);
      await q(`INSERT INTO portal.orders (id, user_id, amount, status) VALUES (6001, 5002, 30, 'new')`);
      await q(`INSERT INTO portal.users (id, full_name) VALUES (5002, 'Grandparent')`);
      await waitFor('line synced', async () => (await q(`SELECT * FROM salesforce.order_line__c WHERE portal_line_id__c = '7001'`))[0]);
      const [line] = await q(`SELECT * FROM salesforce.order_line__c WHERE portal_line_id__c = '7001'`);
      // The transform saw its parent's target row.
      expect(line).toMatchObject({ order__r__portal_order_id__c: '6001', order_account__c: '5002', sku__c: 'SKU-1' });
      await waitForSettled(db.pool);
      for (const [m, k] of [
        ['lines_to_lines', 7001],
        ['orders_to_orders', 6001],
        ['users_to_accounts', 5002],
      ] as const)
        expect((await logOf(m, k)).map((l) => l.status)).toEqual(['synced']);
    });

    it('syncs when the parent comes in a later transaction', async () => {
      const [{ id: orderId }] = await q(`INSERT INTO portal.orders (user_id, amount, status) VALUES (5003, 1, 'late') RETURNING id`);
      await waitFor('child waiting', async () => (await logOf('orders_to_orders', orderId))[0]!.attempts >= 1);
      await q(`INSERT INTO portal.users (id, full_name) VALUES (5003, 'Late parent')`);
      await waitFor('order synced', async () => (await orderTarget(orderId))?.status__c === 'late');
      expect((await logOf('orders_to_orders', orderId))[0]!.status).toBe('synced');
    });

    it('fails an orphan after its attempts, naming mapping, column and key; `ferry retry` carries it once the parent exists', async () => {
      const [{ id: orderId }] = await q(`INSERT INTO portal.orders (user_id, amount, status) VALUES (5999, 9, 'orphan') RETURNING id`);
      const failed = await waitFor('orphan failed', async () => {
        const [l] = await logOf('orders_to_orders', orderId);
        return l!.status === 'failed' ? l : undefined;
      });
      expect(failed.attempts).toBe(4);
      expect(failed.error).toBe('orders_to_orders: parent users_to_accounts with key 5999 (column user_id) is not in its target after 4 attempts');
      expect(await orderTarget(orderId)).toBeUndefined();
      // The workflow's failure, which history keeps, names no key: the workflow never held it.
      const failure = await ferry
        .client!.workflow.getHandle(syncLogWorkflowId(config.instance, failed.id))
        .result()
        .catch((err: WorkflowFailedError) => err.cause?.message);
      expect(failure).toBe('orders_to_orders: parent users_to_accounts (column user_id) is not in its target after 4 attempts');

      await q(`INSERT INTO portal.users (id, full_name) VALUES (5999, 'Finally')`);
      const run = await ferryCli(['retry', String(failed.id), '987654321']);
      expect(run.stdout).toContain(`log ${failed.id}: restarted`);
      expect(run.stderr).toContain('log 987654321: no such log');
      expect(run.code).toBe(1);
      await waitFor('orphan synced after retry', async () => (await orderTarget(orderId))?.status__c === 'orphan');
      await waitFor('log synced', async () => (await logOf('orders_to_orders', orderId))[0]!.status === 'synced');
    });

    it('`ferry retry --failed` with nothing failed says so and exits 0; bad usage exits 2', async () => {
      const none = await ferryCli(['retry', '--failed', '--mapping', 'lines_to_lines']);
      expect(none.stdout).toContain('no failed logs');
      expect(none.code).toBe(0);
      const bad = await ferryCli(['retry']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('retry takes log ids, or --failed');
    });
  });
});

/** Runs the real CLI against this file's database and namespace. */
function ferryCli(args: string[]) {
  const file = writeCliConfig('parents.config.ts', { database: config.database, temporal: config.temporal }, 'chainMappings');
  return runCli([...args, '--config', file], { FERRY_LOG_LEVEL: 'warn' });
}
