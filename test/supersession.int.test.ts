// A change that covers older ones and then waits for its parent: a newer change
// that covers it must not take its before-image for what the target holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import { syncLogWorkflowId } from '../src/contract/index.js';
import type { FerryConfig } from '../src/config.js';
import type { FerryProcess } from '../src/runtime.js';
import { createTestDatabase, logs, startFerry, testConfig, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
let db: TestDatabase;
let ferry: FerryProcess;
let config: FerryConfig;

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  config = testConfig(FILE, db, {
    // Only a parent's arrival (its wake-up) can end a wait within the test.
    missingParent: { initialInterval: '1h', backoffCoefficient: 2, maximumInterval: '1h', maximumAttempts: 10 },
    mappings: exampleSubset('users_to_accounts', 'orders_to_orders'),
  });
  ferry = await startFerry(config);
});
afterAll(async () => {
  await ferry?.stop();
  await db?.drop();
});

describe('supersession while waiting for a parent', () => {
  it('an insert, an update that waits, and an update back: the order still reaches the target', async () => {
    const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
    const [{ id }] = await q(`INSERT INTO portal.orders (user_id, amount, status) VALUES (7001, 10, 'new') RETURNING id`);
    const orderLogs = async () => (await logs(db.pool, 'orders_to_orders')).filter((l) => l.row_key === String(id));
    await waitFor(
      'the insert waits for its user',
      async () => (await q(`SELECT 1 FROM ferry.database_trigger_log WHERE waiting_key = '7001'`)).length > 0,
    );
    await q(`UPDATE portal.orders SET amount = 20 WHERE id = $1`, [id]);
    // The update covers the insert (skipped, superseded by it) and waits in its turn.
    await waitFor('the update covers the insert', async () => {
      const [insert, update] = await orderLogs();
      return insert?.status === 'skipped' && insert.superseded_by === update?.id;
    });
    // The parent reaches the target without waking the waiting update (written
    // there directly: no mapping reads salesforce.account here), then the amount goes back.
    await q(`INSERT INTO salesforce.account (portal_user_id__c, name) VALUES ('7001', 'U')`);
    await q(`UPDATE portal.orders SET amount = 10 WHERE id = $1`, [id]);
    const order = await waitFor(
      'the order in salesforce',
      async () => (await q(`SELECT amount__c FROM salesforce.order__c WHERE portal_order_id__c = $1`, [String(id)]))[0],
    );
    expect(order).toEqual({ amount__c: '10.00' });
    // Nothing was written for this order before: the last update is no "no mapped column changed".
    const carried = await orderLogs();
    expect(carried.map((l) => l.status)).toEqual(['skipped', 'skipped', 'synced']);
    // The Web UI's list says what the workflow carried: ids and names only.
    const described = await ferry.client!.workflow.getHandle(syncLogWorkflowId(config.instance, carried[2]!.id)).describe();
    expect(await described.staticSummary()).toBe(`orders_to_orders UPDATE log ${carried[2]!.id}`);
  });
});
