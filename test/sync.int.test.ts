// End to end: trigger -> log -> NOTIFY -> one workflow per log -> target row,
// on real Postgres and a real Temporal dev server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleMappings } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
import { startSyncWorkflow } from '../src/dispatch/dispatcher.js';
import type { FerryProcess } from '../src/runtime.js';
import { syncLogWorkflowId } from '../src/contract/index.js';
import { CAPTURE_MODES, createTestDatabase, logs, startFerry, testConfig, waitForSettled, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;

// A third pair of tables whose transform throws on some rows, and a counter of
// writes to salesforce.account, to see how many upserts really happened.
const EXTRA_SQL = `
  CREATE TABLE portal.notes (id serial PRIMARY KEY, body text);
  CREATE TABLE salesforce.note__c (portal_note_id__c text PRIMARY KEY, body__c text);
  CREATE TABLE public.account_writes (n integer NOT NULL);
  INSERT INTO public.account_writes VALUES (0);
  CREATE FUNCTION public.count_account_write() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN UPDATE public.account_writes SET n = n + 1; RETURN NULL; END $$;
  CREATE TRIGGER count_writes AFTER INSERT OR UPDATE ON salesforce.account
    FOR EACH ROW EXECUTE FUNCTION public.count_account_write();
`;

describe.each(CAPTURE_MODES)('%s capture', (mode) => {
  let db: TestDatabase;
  let config: FerryConfig;
  let ferry: FerryProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(FILE, EXTRA_SQL, { mode });
    config = testConfig(FILE, db, {
      mappings: [
        // Hard deletes here; the example's soft delete is covered below via orders.
        { ...exampleMappings[0]!, onDelete: 'delete' },
        ...exampleMappings.slice(1),
        {
          name: 'notes',
          source: { table: 'portal.notes', key: 'id' },
          target: { table: 'salesforce.note__c', key: 'portal_note_id__c' },
          transform: (row) => {
            if (String(row.body).startsWith('bad')) throw new Error(`cannot carry note ${row.id}: body is bad`);
            return { portal_note_id__c: String(row.id), body__c: row.body };
          },
        },
      ],
    });
    ferry = await startFerry(config);
  });

  afterAll(async () => {
    await ferry?.stop();
    await db?.drop();
  });

  const account = async (userId: number) =>
    (await db.pool.query('SELECT * FROM salesforce.account WHERE portal_user_id__c = $1', [String(userId)])).rows[0];
  const accountWrites = async () => (await db.pool.query('SELECT n FROM public.account_writes')).rows[0].n as number;

  describe('a change in portal.users reaches salesforce.account', () => {
    it('carries insert, update and delete', async () => {
      const { rows } = await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('ada@example.com', 'Ada') RETURNING id`);
      const id = rows[0].id as number;
      await waitFor('account inserted', async () => (await account(id))?.name === 'Ada');

      await db.pool.query(`UPDATE portal.users SET full_name = 'Ada Lovelace' WHERE id = $1`, [id]);
      await waitFor('account updated', async () => (await account(id))?.name === 'Ada Lovelace');

      await db.pool.query(`DELETE FROM portal.users WHERE id = $1`, [id]);
      await waitFor('account deleted', async () => (await account(id)) === undefined);

      const settled = await waitForSettled(db.pool);
      const mine = settled.filter((l) => l.mapping === 'users_to_accounts' && l.row_key === String(id));
      expect(mine.map((l) => l.op)).toEqual(['INSERT', 'UPDATE', 'DELETE']);
      // Each either wrote or stepped aside for a newer change of the same row.
      for (const l of mine) expect(['synced', 'skipped']).toContain(l.status);
      expect(mine.at(-1)!.status).toBe('synced');
    });

    it('soft-deletes where the mapping says so', async () => {
      const { rows } = await db.pool.query(`INSERT INTO portal.users (full_name) VALUES ('Owner') RETURNING id`);
      const userId = rows[0].id as number;
      const order = await db.pool.query(`INSERT INTO portal.orders (user_id, amount, status) VALUES ($1, 5, 'new') RETURNING id`, [userId]);
      const orderId = String(order.rows[0].id);
      const target = async () => (await db.pool.query('SELECT * FROM salesforce.order__c WHERE portal_order_id__c = $1', [orderId])).rows[0];
      await waitFor('order synced', async () => (await target())?.status__c === 'new');
      await db.pool.query('DELETE FROM portal.orders WHERE id = $1', [orderId]);
      await waitFor('order flagged deleted', async () => (await target())?.isdeleted === true);
    });

    it('writes only the columns the transform returned', async () => {
      const { rows } = await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('grace@example.com', 'Grace') RETURNING id`);
      const id = rows[0].id as number;
      await waitFor('account inserted', async () => (await account(id))?.name === 'Grace');
      // The connector fills in the Salesforce id; Ferry must leave it alone.
      await db.pool.query(`UPDATE salesforce.account SET sfid = '001GRACE' WHERE portal_user_id__c = $1`, [String(id)]);
      await db.pool.query(`UPDATE portal.users SET full_name = 'Grace Hopper' WHERE id = $1`, [id]);
      await waitFor('account updated', async () => (await account(id))?.name === 'Grace Hopper');
      expect((await account(id)).sfid).toBe('001GRACE');
      expect((await account(id)).email__c).toBe('grace@example.com');
    });

    it("logs none of Ferry's own writes (no echo), though both directions are mapped", async () => {
      const before = (await logs(db.pool, 'accounts_to_users')).length;
      const { rows } = await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('e@example.com', 'Echo') RETURNING id`);
      const id = rows[0].id as number;
      await waitFor('account inserted', async () => (await account(id))?.name === 'Echo');
      await db.pool.query(`UPDATE portal.users SET full_name = 'Echo 2' WHERE id = $1`, [id]);
      await waitFor('account updated', async () => (await account(id))?.name === 'Echo 2');
      await waitForSettled(db.pool);
      expect((await logs(db.pool, 'accounts_to_users')).length).toBe(before);
      // The other direction still works for writes that are not Ferry's.
      await db.pool.query(`UPDATE salesforce.account SET name = 'Edited in Salesforce' WHERE portal_user_id__c = $1`, [String(id)]);
      await waitFor(
        'user updated from Salesforce',
        async () => (await db.pool.query('SELECT full_name FROM portal.users WHERE id = $1', [id])).rows[0].full_name === 'Edited in Salesforce',
      );
      await waitForSettled(db.pool);
      expect((await logs(db.pool, 'accounts_to_users')).length).toBe(before + 1);
      expect((await logs(db.pool, 'users_to_accounts')).filter((l) => l.row_key === String(id))).toHaveLength(2);
    });

    it('carries a 20 kB row', async () => {
      const big = 'x'.repeat(20_000);
      const { rows } = await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('big@example.com', $1) RETURNING id`, [big]);
      await waitFor('big account', async () => (await account(rows[0].id))?.name === big);
    });

    it('fails a throwing transform once, with its message, while other rows sync', async () => {
      const { rows } = await db.pool.query(`INSERT INTO portal.notes (body) VALUES ('good one'), ('bad one'), ('good two') RETURNING id`);
      const [good1, bad, good2] = rows.map((r) => r.id as number);
      const settled = await waitFor('notes settled', async () => {
        const l = await logs(db.pool, 'notes');
        return l.length === 3 && l.every((x) => x.status !== 'pending') ? l : undefined;
      });
      const byKey = Object.fromEntries(settled.map((l) => [l.row_key, l]));
      expect(byKey[String(good1)]!.status).toBe('synced');
      expect(byKey[String(good2)]!.status).toBe('synced');
      expect(byKey[String(bad)]!.status).toBe('failed');
      expect(byKey[String(bad)]!.error).toContain(`cannot carry note ${bad}: body is bad`);
      expect(byKey[String(bad)]!.attempts).toBe(1);
      const targets = (await db.pool.query('SELECT portal_note_id__c FROM salesforce.note__c ORDER BY 1')).rows.map((r) => r.portal_note_id__c);
      expect(targets).toEqual([String(good1), String(good2)].sort());
    });

    it('makes one upsert of a log dispatched twice', async () => {
      const { rows } = await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('twice@example.com', 'Twice') RETURNING id`);
      const id = rows[0].id as number;
      await waitFor('account inserted', async () => (await account(id))?.name === 'Twice');
      const [log] = (await logs(db.pool, 'users_to_accounts')).filter((l) => l.row_key === String(id));
      const handle = ferry!.client!.workflow.getHandle(syncLogWorkflowId(config.instance, log!.id));
      expect(await handle.result()).toMatchObject({ status: 'synced', detail: 'upserted' });
      const writes = await accountWrites();
      // Dispatch the finished log again, twice: a new run finds it synced and writes nothing.
      const input = { instance: config.instance, logId: log!.id, mapping: log!.mapping, table: 'portal.users' };
      await startSyncWorkflow(ferry!.client!, config, input);
      await startSyncWorkflow(ferry!.client!, config, input);
      const result = await ferry!.client!.workflow.getHandle(syncLogWorkflowId(config.instance, log!.id)).result();
      expect(result).toMatchObject({ status: 'synced', detail: 'already synced' });
      expect(await accountWrites()).toBe(writes);
    });
  });

  describe('changes made while Ferry is down', () => {
    it('are carried once it starts again', async () => {
      await ferry!.stop();
      ferry = undefined;
      const { rows } = await db.pool.query(
        `INSERT INTO portal.users (email, full_name) SELECT 'down' || g || '@example.com', 'Down ' || g FROM generate_series(1, 25) g RETURNING id`,
      );
      // WAL mode: the slot holds them until the listener reads it.
      if (mode === 'trigger') expect((await logs(db.pool, 'users_to_accounts')).filter((l) => l.status === 'pending')).toHaveLength(25);
      ferry = await startFerry(config);
      for (const { id } of rows) await waitFor(`account ${id}`, async () => (await account(id))?.name?.startsWith('Down '));
      const settled = await waitForSettled(db.pool);
      expect(settled.filter((l) => l.status === 'pending')).toHaveLength(0);
    });
  });
});
