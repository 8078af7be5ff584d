// `ferry status` as an operator runs it (a child process), against a running
// Ferry on real Postgres and the run's Temporal dev server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
import { syncLogWorkflowId } from '../src/contract/index.js';
import type { FerryProcess } from '../src/runtime.js';
import type { StatusReport } from '../src/operate/status.js';
import { runCli, writeCliConfig } from './support/cli.js';
import { createTestDatabase, logs, startFerry, testConfig, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;

let db: TestDatabase;
let config: FerryConfig;
let ferry: FerryProcess | undefined;
let configFile: string;

// Users whose name starts with "bad" cannot be carried: their logs fail.
const users = {
  ...exampleSubset('users_to_accounts')[0]!,
  transform: (row: Record<string, unknown>) => {
    if (String(row.full_name).startsWith('bad')) throw new Error(`user ${row.id} has a bad name`);
    return { portal_user_id__c: String(row.id), name: row.full_name, email__c: row.email, isdeleted: false };
  },
};

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  const settings = {
    // A missing parent is looked for again only after a minute: the order stays waiting.
    missingParent: { initialInterval: '1m', maximumAttempts: 100 },
  };
  config = testConfig(FILE, db, { ...settings, mappings: [users, exampleSubset('users_to_accounts', 'orders_to_orders')[1]!] });
  ferry = await startFerry(config);
  configFile = writeCliConfig(
    'status.config.ts',
    {
      ...settings,
      database: { url: db.url },
      temporal: { ...config.temporal, uiUrl: inject('temporalUiUrl') },
    },
    "exampleSubset('users_to_accounts', 'orders_to_orders')",
  );
});

afterAll(async () => {
  await ferry?.stop();
  await db?.drop();
});

async function status(...args: string[]): Promise<{ code: number | null; report: StatusReport }> {
  const { code, stdout, stderr } = await runCli(['status', '--json', '--config', configFile, ...args]);
  expect(stderr).toBe('');
  return { code, report: JSON.parse(stdout) };
}

const link = (logId: number) =>
  `${inject('temporalUiUrl')}/namespaces/${config.temporal.namespace}/workflows/${syncLogWorkflowId(config.instance, logId)}`;

describe('ferry status', () => {
  it('counts per mapping and exits 0 when nothing is failed or old', async () => {
    await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('ada@example.com', 'Ada')`);
    await waitFor('user synced', async () => (await logs(db.pool, 'users_to_accounts')).some((l) => l.status === 'synced'));
    const { code, report } = await status();
    expect(code).toBe(0);
    expect(report.healthy).toBe(true);
    expect(report.mappings).toEqual([
      expect.objectContaining({ mapping: 'users_to_accounts', pending: 0, synced: 1, failed: 0, oldestPendingAgeSeconds: null, syncedLastMinute: 1 }),
      expect.objectContaining({ mapping: 'orders_to_orders', pending: 0, synced: 0 }),
    ]);
    expect(report.waiting).toEqual([]);
    expect(report.failed).toEqual([]);
  });

  it('lists a log waiting for its parent with its Web UI link; --max-pending-age turns it into a problem', async () => {
    await db.pool.query(`INSERT INTO portal.orders (user_id, amount, status) VALUES (424242, 9, 'new')`);
    const [order] = await waitFor('order waiting', async () => {
      const l = (await db.pool.query(`SELECT id FROM ferry.database_trigger_log WHERE mapping = 'orders_to_orders' AND waiting_key IS NOT NULL`))
        .rows;
      return l.length ? l : undefined;
    });
    const { code, report } = await status();
    expect(code).toBe(0); // young: within the default 5m
    expect(report.mappings.find((m) => m.mapping === 'orders_to_orders')).toMatchObject({ pending: 1, waiting: 1 });
    expect(report.waiting).toEqual([
      expect.objectContaining({
        logId: order.id,
        mapping: 'orders_to_orders',
        workflowId: syncLogWorkflowId(config.instance, order.id),
        waitingFor: { mapping: 'users_to_accounts', key: '424242' },
        webUi: link(order.id),
      }),
    ]);

    await waitFor(
      'the order is older than the limit',
      async () =>
        (await db.pool.query(`SELECT now() - created_at > interval '500 ms' AS old FROM ferry.database_trigger_log WHERE id = $1`, [order.id]))
          .rows[0].old,
    );
    const old = await status('--max-pending-age', '200ms');
    expect(old.code).toBe(1);
    expect(old.report.healthy).toBe(false);
    expect(old.report.problems).toEqual([expect.stringMatching(/^orders_to_orders: oldest pending log is .* old \(limit 0\.2s\)$/)]);
  });

  it('lists failed logs with their error and link, and exits 1', async () => {
    const { rows } = await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('b@example.com', 'bad Bob') RETURNING id`);
    const failedLog = await waitFor('user failed', async () =>
      (await logs(db.pool, 'users_to_accounts')).find((l) => l.row_key === String(rows[0].id) && l.status === 'failed'),
    );
    const { code, report } = await status();
    expect(code).toBe(1);
    expect(report.problems).toEqual(['1 failed log(s)']);
    expect(report.failed).toEqual([
      expect.objectContaining({
        logId: failedLog.id,
        mapping: 'users_to_accounts',
        attempts: 1,
        webUi: link(failedLog.id),
        error: expect.stringContaining(`user ${rows[0].id} has a bad name`),
      }),
    ]);

    // The same, for a person: a table, both lists with links, how to retry, and the verdict.
    const text = await runCli(['status', '--config', configFile]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^MAPPING\s+PENDING\s+WAITING\s+SYNCED\s+SKIPPED\s+FAILED\s+OLDEST PENDING\s+SYNCED\/1M$/m);
    expect(text.stdout).toMatch(/^users_to_accounts\s+0\s+0\s+1\s+0\s+1\s+-\s+\d+$/m);
    expect(text.stdout).toContain('Waiting for a parent (1):');
    expect(text.stdout).toContain('waits for users_to_accounts key 424242');
    expect(text.stdout).toContain(`Failed (1):\n  log ${failedLog.id}  users_to_accounts INSERT key ${rows[0].id}  attempts 1  `);
    expect(text.stdout).toContain(link(failedLog.id));
    expect(text.stdout).toContain(`temporal workflow signal --workflow-id ${syncLogWorkflowId(config.instance, '<logId>')} --name forceRetry`);
    expect(text.stdout).toContain('PROBLEM: 1 failed log(s)');
  });

  it('exits 2 on a bad flag value', async () => {
    const { code, stderr } = await runCli(['status', '--config', configFile, '--max-pending-age', 'soon']);
    expect(code).toBe(2);
    expect(stderr).toContain('--max-pending-age: not a duration: "soon"');
  });
});
