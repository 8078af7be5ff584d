// Hierarchies and loops on the example: portal.users.manager_id is a required
// parent in the same mapping (Account.ParentId), and the account's primary
// contact is an optional parent whose contact points back at the account.
// Timers are an hour long: only wake-ups and loop detection explain a quick end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleMappings } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
import { withTransaction } from '../src/db/index.js';
import type { FerryProcess } from '../src/runtime.js';
import { collectStatus, formatStatus } from '../src/operate/status.js';
import { stateQuery, syncLogWorkflowId } from '../src/contract/index.js';
import { CAPTURE_MODES, createTestDatabase, logs, startFerry, testConfig, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;

describe.each(CAPTURE_MODES)('%s capture', (mode) => {
  let db: TestDatabase;
  let config: FerryConfig;
  let ferry: FerryProcess;

  beforeAll(async () => {
    db = await createTestDatabase(FILE, '', { mode });
    config = testConfig(FILE, db, {
      missingParent: { initialInterval: '1h', backoffCoefficient: 2, maximumInterval: '1h', maximumAttempts: 100 },
      mappings: exampleMappings,
    });
    ferry = await startFerry(config);
  });
  afterAll(async () => {
    await ferry?.stop();
    await db?.drop();
  });

  const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
  const account = async (userId: number) => (await q('SELECT * FROM salesforce.account WHERE portal_user_id__c = $1', [String(userId)]))[0];
  const userLogs = async (userId: number) => (await logs(db.pool, 'users_to_accounts')).filter((l) => l.row_key === String(userId));
  const allSynced = (ids: number[]) =>
    waitFor(`users ${ids.join(', ')} synced`, async () => {
      for (const id of ids) if (!(await userLogs(id)).every((l) => l.status !== 'pending')) return false;
      return true;
    });

  /** Runs the statements in one transaction, in order. */
  const inOneTransaction = (...statements: string[]) =>
    withTransaction(db.pool, async (c) => {
      for (const sql of statements) await c.query(sql);
    });

  describe('a table that references itself (users.manager_id -> account.parentid)', () => {
    it('syncs a 4-level tree written in one transaction, children first, each after its parent', async () => {
      await inOneTransaction(
        `INSERT INTO portal.users (id, full_name, manager_id) VALUES (1004, 'Level 4', 1003)`,
        `INSERT INTO portal.users (id, full_name, manager_id) VALUES (1003, 'Level 3', 1002), (1013, 'Level 3b', 1002)`,
        `INSERT INTO portal.users (id, full_name, manager_id) VALUES (1002, 'Level 2', 1001)`,
        `INSERT INTO portal.users (id, full_name) VALUES (1001, 'Root')`,
      );
      const ids = [1001, 1002, 1003, 1013, 1004];
      await allSynced(ids);
      // parentid comes from ctx.parents: each was written after its parent's account.
      expect((await account(1001)).parentid).toBeNull();
      expect((await account(1002)).parentid).toBe('1001');
      expect((await account(1003)).parentid).toBe('1002');
      expect((await account(1013)).parentid).toBe('1002');
      expect((await account(1004)).parentid).toBe('1003');
      for (const id of ids) expect((await userLogs(id)).map((l) => l.status)).toEqual(['synced']);
    });

    it('carries a leaves-first tree above the batch threshold in depth order inside its batches, almost no row in a syncLog of its own', async () => {
      // 4 levels, 600 rows (more than batchThreshold 100, two batches of up to 500), one statement, leaves first.
      const sizes = [40, 80, 160, 320];
      const ids: number[] = [];
      const managers: (number | null)[] = [];
      let first = 10_000;
      sizes.forEach((size, level) => {
        for (let i = 0; i < size; i++) {
          ids.push(first + i);
          managers.push(level === 0 ? null : first - sizes[level - 1]! + (i % sizes[level - 1]!));
        }
        first += size;
      });
      await q(
        `INSERT INTO portal.users (id, full_name, manager_id)
       SELECT id, 'tree ' || id, manager FROM unnest($1::int[], $2::int[]) WITH ORDINALITY AS t (id, manager, n) ORDER BY n DESC`,
        [ids, managers],
      );
      const carriers = await waitFor(
        'every row of the tree carried',
        async () => {
          const rows = await q(
            `SELECT status, workflow_id FROM ferry.database_trigger_log WHERE mapping = 'users_to_accounts' AND row_key = ANY($1::text[])`,
            [ids.map(String)],
          );
          return rows.length === 600 && rows.every((r) => r.status !== 'pending') ? rows : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 200 },
      );
      expect(carriers.filter((r) => r.status !== 'synced')).toEqual([]);
      // Each row after its parent: parentid comes from ctx.parents.
      const wrong = await q(
        `SELECT u.id, u.manager_id, a.parentid FROM portal.users u LEFT JOIN salesforce.account a ON a.portal_user_id__c = u.id::text
        WHERE u.id BETWEEN 10000 AND 10599 AND a.parentid IS DISTINCT FROM u.manager_id::text`,
      );
      expect(wrong).toEqual([]);
      // Carried by batches (pulled parents included), not one syncLog per waiting row.
      const own = carriers.filter((r) => /-log-\d+$/.test(r.workflow_id));
      expect(own.length).toBeLessThanOrEqual(6); // ≤ 1%
      expect(carriers.filter((r) => !/-log-\d+$/.test(r.workflow_id)).every((r) => /-batch-\d+-\d+$/.test(r.workflow_id))).toBe(true);
    });

    it('syncs a tree whose middle node arrives later', async () => {
      await q(`INSERT INTO portal.users (id, full_name) VALUES (2001, 'Root')`);
      await q(`INSERT INTO portal.users (id, full_name, manager_id) VALUES (2003, 'Leaf', 2002)`);
      await waitFor('leaf waiting', async () => (await userLogs(2003))[0]!.attempts >= 1);
      expect(await account(2003)).toBeUndefined();
      await q(`INSERT INTO portal.users (id, full_name, manager_id) VALUES (2002, 'Middle', 2001)`);
      await allSynced([2001, 2002, 2003]);
      expect((await account(2002)).parentid).toBe('2001');
      expect((await account(2003)).parentid).toBe('2002');
    });

    it("fails rows that are each other's required parent at once, naming the loop", async () => {
      const started = Date.now();
      await inOneTransaction(
        `INSERT INTO portal.users (id, full_name, manager_id) VALUES (3001, 'A', 3002)`,
        `INSERT INTO portal.users (id, full_name, manager_id) VALUES (3002, 'B', 3003)`,
        `INSERT INTO portal.users (id, full_name, manager_id) VALUES (3003, 'C', 3001)`,
      );
      const failed = await waitFor('every log of the loop failed', async () => {
        const all = [...(await userLogs(3001)), ...(await userLogs(3002)), ...(await userLogs(3003))];
        return all.every((l) => l.status === 'failed') ? all : undefined;
      });
      expect(Date.now() - started).toBeLessThan(15_000); // the timer is an hour
      const loop =
        /^users_to_accounts key (300\d) -> users_to_accounts key 300\d -> users_to_accounts key 300\d -> users_to_accounts key \1: rows reference each other; make one reference optional \(users_to_accounts\.manager_id\)$/;
      for (const l of failed) expect(l.error).toMatch(loop);
      expect(new Set(failed.map((l) => l.error)).size).toBe(1); // one message for the whole loop
      for (const id of [3001, 3002, 3003]) expect(await account(id)).toBeUndefined();
      // The workflows failed too: the one that found the loop with that message; the others find
      // their log failed already, and say where its message is (a log's stored error stays in Postgres).
      const errors = await Promise.all(
        failed.map(async (l) => {
          const handle = ferry.client!.workflow.getHandle(syncLogWorkflowId(config.instance, l.id));
          await expect(handle.result()).rejects.toThrow();
          return (await handle.query(stateQuery)).error;
        }),
      );
      // The one that found the loop names its rows by their logs (keys stay in the log rows).
      const named =
        /^users_to_accounts log \d+ -> users_to_accounts log \d+ -> users_to_accounts log \d+ -> users_to_accounts log \d+: rows reference each other; make one reference optional \(users_to_accounts\.manager_id\)$/;
      expect(errors.filter((e) => named.test(e ?? '')).length).toBeGreaterThanOrEqual(1);
      for (const e of errors) expect(e).toMatch(/rows reference each other|^already failed; the message is in its log row$/);
      for (const e of errors) expect(e).not.toMatch(/key 300\d/);
    });

    it('shows a waiting chain in query state and in ferry status', async () => {
      await q(`INSERT INTO portal.users (id, full_name, manager_id) VALUES (4002, 'Middle', 4001)`);
      const middle = await waitFor('middle waiting', async () => {
        const [l] = await userLogs(4002);
        return l!.attempts >= 1 ? l : undefined;
      });
      await q(`INSERT INTO portal.users (id, full_name, manager_id) VALUES (4003, 'Leaf', 4002)`);
      const [leaf] = await userLogs(4003);
      const state = await waitFor('leaf waiting_parent', async () => {
        const s = await ferry.client!.workflow.getHandle(syncLogWorkflowId(config.instance, leaf!.id)).query(stateQuery);
        return s.state === 'waiting_parent' ? s : undefined;
      });
      // The workflow holds log ids and names, no key: `ferry status` reads the keys from the log rows.
      expect(state.waitingFor).toEqual({
        mapping: 'users_to_accounts',
        table: 'portal.users',
        column: 'manager_id',
        logId: middle.id,
        chain: [{ mapping: 'users_to_accounts', logId: null }],
      });
      const report = await collectStatus(db.pool, config, { maxPendingAgeMs: 300_000, limit: 50 });
      expect(report.waiting.find((l) => l.logId === leaf!.id)!.waitingFor).toEqual({
        mapping: 'users_to_accounts',
        key: '4002',
        chain: [{ mapping: 'users_to_accounts', key: '4001', logId: null }],
      });
      expect(formatStatus(report)).toContain(
        `log ${leaf!.id}  users_to_accounts INSERT key 4003  waits for users_to_accounts key 4002, which waits for users_to_accounts key 4001`,
      );
      // The root comes: the whole chain follows, by wake-ups alone.
      await q(`INSERT INTO portal.users (id, full_name) VALUES (4001, 'Root')`);
      await allSynced([4001, 4002, 4003]);
      expect((await account(4003)).parentid).toBe('4002');
    });

    it('deleting a middle node applies onDelete; a child keeps the reference until it is carried again, then the transform drops it', async () => {
      await q(`INSERT INTO portal.users (id, full_name) VALUES (5001, 'Root')`);
      await q(`INSERT INTO portal.users (id, full_name, manager_id) VALUES (5002, 'Middle', 5001)`);
      await q(`INSERT INTO portal.users (id, full_name, manager_id) VALUES (5003, 'Leaf', 5002)`);
      await waitFor('leaf synced', async () => (await account(5003))?.parentid === '5002');
      await q(`DELETE FROM portal.users WHERE id = 5002`);
      await waitFor('middle flagged deleted', async () => (await account(5002))?.isdeleted === true);
      expect((await account(5003)).parentid).toBe('5002');
      await q(`UPDATE portal.users SET full_name = 'Leaf, renamed' WHERE id = 5003`);
      await waitFor('leaf carried again', async () => (await account(5003))?.name === 'Leaf, renamed');
      expect((await account(5003)).parentid).toBeNull(); // the example's transform: a deleted manager is no parent
    });
  });

  describe('an optional loop (account.primary_contact__c <-> contact.account)', () => {
    it('converges from one transaction with both references set: the account is carried twice', async () => {
      await inOneTransaction(
        `INSERT INTO portal.users (id, full_name, primary_contact_id) VALUES (6001, 'Acme', 6101)`,
        `INSERT INTO portal.contacts (id, user_id, full_name) VALUES (6101, 6001, 'Grace')`,
      );
      await waitFor('both references set', async () => (await account(6001))?.primary_contact__c === '6101');
      const [contact] = await q(`SELECT * FROM salesforce.contact WHERE portal_contact_id__c = '6101'`);
      expect(contact).toMatchObject({ account__r__portal_user_id__c: '6001', name: 'Grace' });
      await allSynced([6001]);
      const passes = await q(
        `SELECT op, status, reason FROM ferry.database_trigger_log WHERE mapping = 'users_to_accounts' AND row_key = '6001' ORDER BY id`,
      );
      expect(passes).toEqual([
        { op: 'INSERT', status: 'synced', reason: null },
        { op: 'UPDATE', status: 'synced', reason: 'second pass: optional parent contacts_to_contacts key 6101 synced' },
      ]);
      expect(await q(`SELECT * FROM ferry.optional_waits`)).toEqual([]);
    });

    it('writes the account at once when its contact comes much later, and fills the reference then', async () => {
      await q(`INSERT INTO portal.users (id, full_name, primary_contact_id) VALUES (7001, 'Later Inc', 7101)`);
      await waitFor('account written without its contact', async () => (await account(7001))?.name === 'Later Inc');
      expect((await account(7001)).primary_contact__c).toBeNull();
      expect(await q(`SELECT parent_mapping, parent_key, mapping, row_key FROM ferry.optional_waits`)).toEqual([
        { parent_mapping: 'contacts_to_contacts', parent_key: '7101', mapping: 'users_to_accounts', row_key: '7001' },
      ]);
      await q(`INSERT INTO portal.contacts (id, user_id, full_name) VALUES (7101, 7001, 'Ada')`);
      await waitFor('reference filled', async () => (await account(7001))?.primary_contact__c === '7101');
    });
  });
});
