// `ferry backfill`: rows that existed before Ferry are carried by a backfill
// workflow in keyset chunks, under the same rules as captured changes.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleMappings } from '../example/mappings.js';
import { startBackfill, waitForBackfill } from '../src/bulk/backfill-run.js';
import { verifyMapping } from '../src/bulk/verify.js';
import { mappingByName, type FerryConfig } from '../src/config.js';
import type { FerryProcess } from '../src/runtime.js';
import type { StatusReport } from '../src/operate/status.js';
import { backfillWorkflowId, progressQuery, type BackfillProgress } from '../src/contract/index.js';
import { runCli, writeCliConfig } from './support/cli.js';
import { CAPTURE_MODES, createTestDatabase, startFerry, testConfig, waitForSettled, type TestDatabase } from './support/harness.js';
import { pairProblems } from './support/pairs.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
const quiet = { update() {}, end() {} };

describe.each(CAPTURE_MODES)('%s capture', (mode) => {
  let db: TestDatabase;
  let config: FerryConfig;
  let ferry: FerryProcess;
  let client: Client;

  beforeAll(async () => {
    db = await createTestDatabase(FILE, '', { mode });
    // Rows written before Ferry is migrated have no log: only a backfill carries them.
    await db.pool.query(`INSERT INTO portal.users (full_name, email) SELECT 'user ' || i, 'u' || i || '@example.com' FROM generate_series(1, 300) i`);
    await db.pool.query(`INSERT INTO portal.orders (user_id, amount, status) SELECT 1 + i % 300, i, 'new' FROM generate_series(1, 100) i`);
    // Accounts made in Salesforce only: the reverse mapping links them.
    await db.pool.query(
      `INSERT INTO salesforce.account (name, email__c) SELECT 'sf only ' || i, 'sf' || i || '@example.com' FROM generate_series(1, 10) i`,
    );
    config = testConfig(FILE, db, { mappings: exampleMappings });
    ferry = await startFerry(config);
    client = ferry.client!;
  });

  afterAll(async () => {
    await ferry?.stop();
    await db?.drop();
  });

  const mapping = (name: string) => mappingByName(config, name)!;

  describe('backfill', () => {
    it('carries existing rows while live writes hit the same rows, ending equal', async () => {
      const handle = await startBackfill(client, config, mapping('users_to_accounts'), { batch: 50 });
      // Live edits to rows the backfill reads, until it is done.
      let done = false;
      let edits = 0;
      const result = waitForBackfill(handle, quiet).finally(() => (done = true));
      // Paced, so the edits' own workflows stay a small load next to the backfill.
      while (!done) {
        const id = 1 + ((edits * 37) % 300);
        await db.pool.query(`UPDATE portal.users SET full_name = 'edited ' || $2 WHERE id = $1`, [id, edits++]);
        await new Promise((r) => setTimeout(r, 100));
      }
      const outcome = await result;
      expect(outcome.ok).toBe(true);
      const progress = (outcome as { progress: BackfillProgress }).progress;
      expect(progress.rowsDone).toBe(300);
      expect(progress.rowsTotal).toBe(300);
      const [run] = (
        await db.pool.query(`SELECT state, rows_done::int, rows_total::int FROM ferry.backfill_runs WHERE mapping = 'users_to_accounts'`)
      ).rows;
      expect(run).toEqual({ state: 'done', rows_done: 300, rows_total: 300 });
      expect(progress.carried + progress.skipped + progress.handedOff).toBe(300);
      await waitForSettled(db.pool);
      const report = await verifyMapping(db.pool, config, mapping('users_to_accounts'), { batch: 500 });
      expect({ differs: report.differs, missing: report.missing, orphans: report.orphans }).toEqual({ differs: 0, missing: 0, orphans: 0 });
      expect(edits).toBeGreaterThan(0);
      // Each backfill log was carried or stepped aside; none is left pending.
      const backfillLogs = (
        await db.pool.query(`SELECT status, count(*)::int AS n FROM ferry.database_trigger_log WHERE kind = 'backfill' GROUP BY status`)
      ).rows;
      expect(backfillLogs.map((r) => r.status).sort()).not.toContain('pending');
    }, 120_000);

    it('links records that exist only on the other side, and never duplicates them', async () => {
      for (let round = 0; round < 2; round++) {
        const outcome = await waitForBackfill(await startBackfill(client, config, mapping('accounts_to_users'), { batch: 7 }), quiet);
        expect(outcome.ok).toBe(true);
        await waitForSettled(db.pool);
      }
      const users = (await db.pool.query(`SELECT count(*)::int AS n FROM portal.users`)).rows[0].n;
      expect(users).toBe(310);
      expect(await pairProblems(db.pool)).toEqual([]);
    }, 120_000);

    it('carries children after their parents, and shows progress in the query', async () => {
      const handle = await startBackfill(client, config, mapping('orders_to_orders'), { batch: 40 });
      const seen = await waitFor('progress query answers', () => handle.query(progressQuery).catch(() => undefined), { timeoutMs: 60_000 });
      expect(seen.mapping).toBe('orders_to_orders');
      const outcome = await waitForBackfill(handle, quiet);
      expect(outcome.ok).toBe(true);
      await waitForSettled(db.pool);
      const report = await verifyMapping(db.pool, config, mapping('orders_to_orders'), { batch: 500 });
      expect(report.equal).toBe(100);
    }, 180_000);
  });

  describe('ferry backfill (CLI)', () => {
    let configFile: string;
    beforeAll(() => {
      configFile = writeCliConfig('backfill.config.ts', { database: { url: db.url }, temporal: config.temporal });
    });

    it('waits, printing JSON lines of progress when stdout is no terminal, and exits 0', async () => {
      const run = await runCli(['backfill', 'users_to_accounts', '--batch', '100', '--config', configFile]);
      expect(run.stderr).toContain('users_to_accounts: 310 rows');
      expect(run.code).toBe(0);
      const lines = run.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.at(-1)).toMatchObject({ label: 'users_to_accounts', done: 310, total: 310, state: 'done' });
    }, 120_000);

    it('says what is wrong with usage and exits 2', async () => {
      const [unknown, where, neither] = await Promise.all([
        runCli(['backfill', 'no_such_mapping', '--config', configFile]),
        runCli(['backfill', 'users_to_accounts', '--where', 'no_such_column > 1', '--config', configFile]),
        runCli(['backfill', '--config', configFile]),
      ]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('no mapping is named "no_such_mapping"');
      expect(where.code).toBe(2);
      expect(where.stderr).toContain('--where');
      expect(neither.code).toBe(2);
    }, 120_000);

    it('--detach returns once started; --cancel stops it', async () => {
      // One row a chunk: long enough to cancel midway.
      const detached = await runCli(['backfill', 'users_to_accounts', '--batch', '1', '--detach', '--config', configFile]);
      expect(detached.code).toBe(0);
      expect(detached.stdout).toContain('backfill started');
      // `ferry status` lists it while it runs, from the database alone.
      const listed = await waitFor(
        'ferry status lists the running backfill',
        async () => {
          const { stdout } = await runCli(['status', '--json', '--config', configFile]);
          return (JSON.parse(stdout) as StatusReport).backfills.find((b) => b.mapping === 'users_to_accounts' && b.state === 'running');
        },
        { timeoutMs: 60_000 },
      );
      expect(listed.workflowId).toBe(backfillWorkflowId(config.instance, 'users_to_accounts'));
      expect(listed.rowsTotal).toBeGreaterThan(0);
      const cancelled = await runCli(['backfill', 'users_to_accounts', '--cancel', '--config', configFile]);
      expect(cancelled.code).toBe(0);
      const handle = client.workflow.getHandle(backfillWorkflowId(config.instance, 'users_to_accounts'));
      await waitFor('cancelled', async () => (await handle.describe()).status.name === 'CANCELLED', { timeoutMs: 60_000 });
      expect((await handle.query(progressQuery).catch(() => undefined))?.rowsDone ?? 0).toBeLessThan(310);
      await waitFor(
        'its run recorded as cancelled, so status no longer lists it',
        async () =>
          (await db.pool.query(`SELECT state FROM ferry.backfill_runs WHERE workflow_id = $1`, [handle.workflowId])).rows[0]?.state === 'cancelled',
      );
    }, 180_000);
  });

  describe('backfill of a tree', () => {
    it('carries a hierarchy in depth order inside its chunks: no row waits in a syncLog of its own', async () => {
      // 3 levels (a root per 10 rows...), written before capture sees them (replica role: no triggers; WAL: the origin message).
      const ids = Array.from({ length: 150 }, (_, i) => 20_000 + i);
      const managers = ids.map((_, i) => (i < 10 ? null : 20_000 + Math.floor(i / 5)));
      const c = await db.pool.connect();
      try {
        await c.query('BEGIN');
        await c.query(`SET LOCAL session_replication_role = replica`);
        // WAL mode reads every commit: marked as Ferry's own write to the target, it is not captured either.
        await c.query(`SELECT ferry.seal_own_write('salesforce.account')`);
        await c.query(`INSERT INTO portal.users (id, full_name, manager_id) SELECT * FROM unnest($1::int[], $2::text[], $3::int[])`, [
          ids,
          ids.map((id) => `tree ${id}`),
          managers,
        ]);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
      const handle = await startBackfill(client, config, mapping('users_to_accounts'), { batch: 100, where: 'id >= 20000' });
      const outcome = await waitForBackfill(handle, quiet);
      expect(outcome.ok).toBe(true);
      const logs = await waitFor('every row of the tree carried', async () => {
        const { rows } = await db.pool.query(
          `SELECT status, workflow_id FROM ferry.database_trigger_log WHERE mapping = 'users_to_accounts' AND row_key = ANY($1::text[])`,
          [ids.map(String)],
        );
        return rows.length === 150 && rows.every((l) => l.status !== 'pending') ? rows : undefined;
      });
      expect(logs.filter((l) => l.status !== 'synced')).toEqual([]);
      // Children in the same chunk as their parents are carried after them, in that chunk.
      expect(logs.filter((l) => /-log-\d+$/.test(l.workflow_id))).toEqual([]);
      const wrong = await db.pool.query(
        `SELECT u.id FROM portal.users u LEFT JOIN salesforce.account a ON a.portal_user_id__c = u.id::text
        WHERE u.id >= 20000 AND a.parentid IS DISTINCT FROM u.manager_id::text`,
      );
      expect(wrong.rows).toEqual([]);
    }, 180_000);
  });

  /** A backfill started in Temporal by hand, in the input shape of runs started before ferry.backfill_inputs (where and keys in the input). */
  function startOldShape(name: string, fields: { where?: string; keys?: string[]; orphans?: string[] }) {
    const input = { instance: config.instance, mapping: name, table: mapping(name).source.table, batch: 100, ...fields };
    return client.workflow.start('backfill', {
      taskQueue: config.temporal.taskQueue,
      workflowId: backfillWorkflowId(config.instance, name),
      args: [input],
    });
  }

  describe('a backfill started directly in Temporal, in the input shape of runs from before ferry.backfill_inputs', () => {
    it('with a --where that breaks out of its parentheses: nothing written, the workflow fails without retrying', async () => {
      const before = (await db.pool.query(`SELECT count(*)::int AS n FROM ferry.database_trigger_log WHERE mapping = 'contacts_to_contacts'`)).rows[0]
        .n;
      const handle = await startOldShape('contacts_to_contacts', { where: `true) OR (EXISTS (SELECT 1 FROM salesforce.account)` });
      await expect(handle.result()).rejects.toThrow();
      const history = await handle.fetchHistory();
      const started = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes);
      expect(started.map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([1]);
      const failure = (history.events ?? []).find((e) => e.activityTaskFailedEventAttributes)!.activityTaskFailedEventAttributes!.failure!;
      expect(failure.message).toMatch(/--where on portal\.contacts refused: a "\)" closes what the expression did not open/);
      const after = (await db.pool.query(`SELECT count(*)::int AS n FROM ferry.database_trigger_log WHERE mapping = 'contacts_to_contacts'`)).rows[0]
        .n;
      expect(after).toBe(before);
    });

    it('with live target keys as orphans: nothing deleted; the keys it names are carried', async () => {
      const { rows } = await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('live@example.com', 'Live') RETURNING id`);
      const key = String(rows[0].id);
      const account = async () => (await db.pool.query(`SELECT 1 FROM salesforce.account WHERE portal_user_id__c = $1`, [key])).rowCount;
      await waitFor('the live row carried', async () => (await account()) === 1);
      const handle = await startOldShape('users_to_accounts', { keys: [key], orphans: [key] });
      const progress = (await handle.result()) as BackfillProgress;
      expect(progress).toMatchObject({ orphansRemoved: 0, rowsDone: 1, state: 'done' });
      expect(await account()).toBe(1);
    });
  });

  describe('ferry.backfill_inputs', () => {
    it('holds a run while it goes and nothing once it ended', async () => {
      const handle = await startBackfill(client, config, mapping('users_to_accounts'), { batch: 100, where: `email LIKE 'u1%'` });
      const outcome = await waitForBackfill(handle, quiet);
      expect(outcome).toMatchObject({ ok: true, progress: { cursor: null } });
      expect((await db.pool.query(`SELECT count(*)::int AS n FROM ferry.backfill_inputs`)).rows[0].n).toBe(0);
    });
  });
});
