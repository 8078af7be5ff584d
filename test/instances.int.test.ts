// Two deployments (two databases, each its own instance and task queue) in one
// Temporal namespace: their log ids are the same numbers, their workflows never
// cross, and `ferry retry` reaches its own instance's workflow.
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FerryConfig } from '../src/config.js';
import { FerryInstance, SYNC_LOG_WORKFLOW, syncLogWorkflowId } from '../src/contract/index.js';
import { retryLog } from '../src/operate/retry.js';
import type { FerryProcess } from '../src/runtime.js';
import { exampleMappings } from '../example/mappings.js';
import { createTestDatabase, logs, startFerry, testConfig, type TestDatabase } from './support/harness.js';
import { namespaceForFile } from './support/names.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
interface Deployment {
  name: 'a' | 'b';
  db: TestDatabase;
  config: FerryConfig;
  ferry?: FerryProcess;
}
const deployments: Deployment[] = [];

beforeAll(async () => {
  for (const name of ['a', 'b'] as const) {
    // The second database gets a name of its own; both share this file's namespace.
    const db = await createTestDatabase(name === 'a' ? FILE : FILE.replace('instances.int', 'instances-b.int'));
    const config = testConfig(FILE, db, {
      instance: `tenant-${name}`,
      temporal: { address: inject('temporalAddress'), namespace: namespaceForFile(FILE), taskQueue: `ferry-${name}` },
      missingParent: { initialInterval: '1h', backoffCoefficient: 2, maximumInterval: '1h', maximumAttempts: 100 },
      mappings: exampleMappings,
    });
    deployments.push({ name, db, config, ferry: await startFerry(config) });
  }
});
afterAll(async () => {
  for (const d of deployments) {
    await d.ferry?.stop();
    await d.db.drop();
  }
});

const [a, b] = [() => deployments[0]!, () => deployments[1]!];

describe('two deployments in one namespace', () => {
  it('carry logs with the same ids, each to its own database, under its own workflow ids', async () => {
    // The same statements in both: the same log ids (1 = an order whose user never comes, 2..4 users).
    for (const d of deployments) {
      await d.db.pool.query(`INSERT INTO portal.orders (user_id, amount, status) VALUES (999999, 1, 'new')`);
      await d.db.pool.query(
        `INSERT INTO portal.users (email, full_name) SELECT $1 || g || '@example.com', $1 || ' user ' || g FROM generate_series(1, 3) g`,
        [d.name],
      );
    }
    for (const d of deployments) {
      const rows = await waitFor(`${d.name}: users synced, order waiting`, async () => {
        const l = await logs(d.db.pool);
        const users = l.filter((r) => r.mapping === 'users_to_accounts');
        const order = l.find((r) => r.mapping === 'orders_to_orders');
        return users.length === 3 && users.every((r) => r.status === 'synced') && order && order.attempts >= 1 ? l : undefined;
      });
      expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4]);
      const names = (await d.db.pool.query(`SELECT name FROM salesforce.account ORDER BY name`)).rows.map((r) => r.name);
      expect(names).toEqual([1, 2, 3].map((g) => `${d.name} user ${g}`));
      const recorded = (await d.db.pool.query(`SELECT id, workflow_id FROM ferry.database_trigger_log ORDER BY id`)).rows;
      expect(recorded).toEqual(rows.map((r) => ({ id: r.id, workflow_id: syncLogWorkflowId(d.config.instance, r.id) })));
      const described = await d.ferry!.client!.workflow.getHandle(syncLogWorkflowId(d.config.instance, 2)).describe();
      expect(described.typedSearchAttributes.get(FerryInstance)).toBe(d.config.instance);
      expect(described.taskQueue).toBe(d.config.temporal.taskQueue);
    }
  });

  it('ferry retry signals its own instance’s workflow only', async () => {
    expect(await retryLog(b().db.pool, b().ferry!.client!, b().config, 1)).toBe('signalled');
    const signals = async (d: Deployment) => {
      const history = await d.ferry!.client!.workflow.getHandle(syncLogWorkflowId(d.config.instance, 1)).fetchHistory();
      return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'forceRetry').length;
    };
    await waitFor('b signalled', async () => (await signals(b())) === 1);
    expect(await signals(a())).toBe(0);
  });

  it('a worker handed a log of another instance fails it loudly and writes nothing', async () => {
    const before = (await b().db.pool.query(`SELECT count(*)::int AS n FROM salesforce.account`)).rows[0].n;
    const logsBefore = await logs(b().db.pool);
    await b().db.pool.query(`INSERT INTO portal.users (id, email, full_name) VALUES (999999, 'late@example.com', 'late')`);
    const stray = b().ferry!.client!.workflow.start(SYNC_LOG_WORKFLOW, {
      taskQueue: b().config.temporal.taskQueue,
      workflowId: `stray-${inject('runId')}`,
      // A's log 2, on B's task queue.
      args: [{ instance: a().config.instance, logId: 2, mapping: 'users_to_accounts', table: 'portal.users' }],
    });
    const failure = await (await stray).result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause;
    const message = String((cause?.cause as Error | undefined)?.message ?? cause?.message);
    expect(message).toContain('log 2 belongs to instance "tenant-a", but this worker serves instance "tenant-b"');
    // B's own logs went on as before (the new user is B's log 5); log 2 was not touched again.
    const after = await waitFor('b settled', async () => {
      const l = await logs(b().db.pool);
      return l.find((r) => r.id === 5)?.status === 'synced' ? l : undefined;
    });
    expect(after.find((r) => r.id === 2)).toEqual(logsBefore.find((r) => r.id === 2));
    expect((await b().db.pool.query(`SELECT count(*)::int AS n FROM salesforce.account`)).rows[0].n).toBe(before + 1);
  });
});
