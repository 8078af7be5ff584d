// The trust boundary (docs/trust-boundary.md): an application role that may
// write its own tables only is captured without any right in schema ferry,
// cannot read or forge the log, and cannot hide its writes by setting
// ferry.* settings; the worker refuses a log that does not fit its mapping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import pg from 'pg';
import type { FerryConfig, FerryConfigInput } from '../src/config.js';
import { backfillWorkflowId, type BackfillInput, type BackfillProgress } from '../src/contract/index.js';
import type { FerryProcess } from '../src/runtime.js';
import { createTestDatabase, logs, testConfig, type TestDatabase } from './support/harness.js';
import { dropRoles, migrateAs, ownerGrants, runnerGrants, startAs, urlAs } from './support/roles.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
const mappings: FerryConfigInput['mappings'] = [
  {
    name: 'users_to_accounts',
    source: { table: 'portal.users', key: 'id' },
    target: { table: 'salesforce.account', key: 'portal_user_id__c' },
    transform: (row) => ({ portal_user_id__c: String(row.id), name: row.full_name }),
  },
];

describe.each(['poll', 'notify'] as const)('trust boundary (%s mode)', (mode) => {
  const suffix = `${mode}_${inject('runId')}`;
  const OWNER = `ferry_tb_owner_${suffix}`;
  const RUNNER = `ferry_tb_runner_${suffix}`;
  const APP = `ferry_tb_app_${suffix}`;
  let db: TestDatabase;
  let ferry: FerryProcess | undefined;
  let app: pg.Client;
  let config: FerryConfig;

  const accountName = async (id: number) =>
    (await db.pool.query(`SELECT name FROM salesforce.account WHERE portal_user_id__c = $1`, [String(id)])).rows[0]?.name as string | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(FILE, '', { suffix: mode });
    await dropRoles(db.pool, [OWNER, RUNNER, APP]);
    const database = new URL(db.url).pathname.slice(1);
    // docs/trust-boundary.md: the owner, the runtime role, and an app role with rights on its own table only.
    await db.pool.query(`${ownerGrants(OWNER, database)}
      CREATE ROLE ${APP} LOGIN;
      GRANT USAGE ON SCHEMA portal TO ${APP};
      GRANT SELECT, INSERT, UPDATE, DELETE ON portal.users TO ${APP};
      GRANT USAGE ON SEQUENCE portal.users_id_seq TO ${APP};`);
    config = testConfig(FILE, db, { mappings, capture: { notify: mode === 'notify' } });
    await migrateAs(config, OWNER);
    await db.pool.query(runnerGrants(RUNNER));
    ferry = await startAs(config, RUNNER);
    app = new pg.Client({ connectionString: urlAs(db.url, APP) });
    await app.connect();
  });

  afterAll(async () => {
    await app?.end();
    await ferry?.stop();
    await dropRoles(db.pool, [OWNER, RUNNER, APP]).catch(() => undefined);
    await db?.drop();
  });

  it('captures and carries the writes of a role that has no right in schema ferry', async () => {
    const { rows } = await app.query(`INSERT INTO portal.users (email, full_name) VALUES ('ada@example.com', 'Ada') RETURNING id`);
    const id = rows[0].id as number;
    await waitFor('insert carried', async () => (await accountName(id)) === 'Ada');
    await app.query(`UPDATE portal.users SET full_name = 'Ada L' WHERE id = $1`, [id]);
    await waitFor('update carried', async () => (await accountName(id)) === 'Ada L');
    const functions = await db.pool.query(
      `SELECT p.prosecdef, p.proconfig, pg_get_userbyid(p.proowner) AS owner FROM pg_proc p
        WHERE p.pronamespace = 'ferry'::regnamespace AND p.proname LIKE 'capture%'`,
    );
    expect(functions.rows).toEqual([{ prosecdef: true, proconfig: ['search_path=pg_catalog, pg_temp'], owner: OWNER }]);
  });

  it('gives the app role no right on the log: it cannot read, forge or change logs', async () => {
    await expect(app.query(`SELECT * FROM ferry.database_trigger_log`)).rejects.toThrow(/permission denied/);
    await expect(
      app.query(`INSERT INTO ferry.database_trigger_log (mapping, table_name, op, row_key, old_row)
                 VALUES ('users_to_accounts', 'portal.users', 'DELETE', '1', '{"id": 1}')`),
    ).rejects.toThrow(/permission denied/);
    await expect(app.query(`UPDATE ferry.database_trigger_log SET status = 'synced'`)).rejects.toThrow(/permission denied/);
    const { rows } = await db.pool.query(
      `SELECT has_schema_privilege($1, 'ferry', 'USAGE') AS usage,
              has_any_column_privilege($1, 'ferry.database_trigger_log', 'SELECT, INSERT, UPDATE') AS log`,
      [APP],
    );
    expect(rows[0]).toEqual({ usage: false, log: false });
  });

  it('captures a write made under any ferry.* setting (echo suppression is for the runtime role only)', async () => {
    await app.query('BEGIN');
    await app.query(`SELECT set_config('ferry.origin', 'salesforce.account', true), set_config('ferry.woke', $1, true)`, [`ferry_portal`]);
    await app.query(`SET LOCAL ferry.allow_truncate = on`);
    const { rows } = await app.query(`INSERT INTO portal.users (email, full_name) VALUES ('hid@example.com', 'Hidden') RETURNING id`);
    await app.query('COMMIT');
    const id = rows[0].id as number;
    await waitFor('the write under ferry.origin carried', async () => (await accountName(id)) === 'Hidden');
    await app.query('BEGIN');
    await app.query(`SET LOCAL ferry.origin = 'salesforce.account'`);
    await app.query(`DELETE FROM portal.users WHERE id = $1`, [id]);
    await app.query('COMMIT');
    await waitFor('the delete under ferry.origin carried', async () => (await accountName(id)) === undefined);
  });

  it("pins search_path in Ferry's own sessions", async () => {
    expect((await ferry!.pool.query(`SELECT current_setting('search_path') AS p`)).rows[0].p).toBe('pg_catalog, pg_temp');
  });

  it('fails a log whose table is not its mapping’s source, with the reason, and carries nothing', async () => {
    const { rows } = await app.query(`INSERT INTO portal.users (email, full_name) VALUES ('keep@example.com', 'Keep') RETURNING id`);
    const id = rows[0].id as number;
    await waitFor('insert carried', async () => (await accountName(id)) === 'Keep');
    // As a superuser could: a DELETE whose image names that row, logged against another table.
    const forged = await db.pool.query(
      `INSERT INTO ferry.database_trigger_log (mapping, table_name, op, row_key, old_row)
       VALUES ('users_to_accounts', 'portal.orders', 'DELETE', $1, jsonb_build_object('id', $2::int)) RETURNING id`,
      [String(id), id],
    );
    const logId = Number(forged.rows[0].id);
    const log = await waitFor('forged log failed', async () => (await logs(db.pool)).find((l) => l.id === logId && l.status === 'failed'));
    expect(log.error).toMatch(/table portal\.orders is not the source of mapping users_to_accounts/);
    expect(await accountName(id)).toBe('Keep');
  });

  /** A backfill workflow started in Temporal by hand, with a run id of ferry.backfill_inputs, as anyone with namespace access can. */
  const startDirectly = (runId: number) => {
    const input: BackfillInput = { instance: config.instance, mapping: 'users_to_accounts', table: 'portal.users', batch: 100, runId };
    return ferry!.client!.workflow.start('backfill', {
      taskQueue: config.temporal.taskQueue,
      workflowId: backfillWorkflowId(config.instance, 'users_to_accounts'),
      args: [input],
    });
  };
  const saveRun = async (where: string | null, orphans: string[], mapping = 'users_to_accounts') =>
    Number(
      (
        await db.pool.query(`INSERT INTO ferry.backfill_inputs (workflow_id, mapping, where_sql, orphan_keys) VALUES ($1, $2, $3, $4) RETURNING id`, [
          backfillWorkflowId(config.instance, mapping),
          mapping,
          where,
          orphans,
        ])
      ).rows[0].id,
    );
  const logCount = async () => (await db.pool.query(`SELECT count(*)::int AS n FROM ferry.database_trigger_log`)).rows[0].n as number;

  it('a backfill started directly with a breakout --where and live keys as orphans: nothing written or deleted, no retry', async () => {
    await expect(app.query(`INSERT INTO ferry.backfill_inputs (workflow_id, mapping) VALUES ('x', 'y')`)).rejects.toThrow(/permission denied/);
    const { rows } = await app.query(`INSERT INTO portal.users (email, full_name) VALUES ('live@example.com', 'Live') RETURNING id`);
    const live = String(rows[0].id);
    await waitFor('the live row carried', async () => (await accountName(Number(live))) === 'Live');
    const before = await logCount();
    // As whoever may write ferry.backfill_inputs could (the app role cannot): a where that closes its parentheses.
    const breakout = await startDirectly(await saveRun(`true) OR (EXISTS (SELECT 1 FROM salesforce.account)`, [live]));
    await expect(breakout.result()).rejects.toThrow();
    const history = (await breakout.fetchHistory()).events ?? [];
    expect(history.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([1]);
    const failure = history.find((e) => e.activityTaskFailedEventAttributes)!.activityTaskFailedEventAttributes!.failure!;
    expect(failure.message).toMatch(/--where on portal\.users refused/);
    expect(await logCount()).toBe(before);
    expect(await accountName(Number(live))).toBe('Live');
    // Live keys as orphans alone: the workflow runs, and the delete re-checked under lock leaves them.
    const orphans = await startDirectly(await saveRun(`id = ${live}`, [live]));
    expect(((await orphans.result()) as BackfillProgress).orphansRemoved).toBe(0);
    expect(await accountName(Number(live))).toBe('Live');
    // A where Postgres refuses as it runs it (a value that does not cast): refused once, not retried forever.
    const refused = await startDirectly(await saveRun(`email = 'x' AND id = 'not a number'`, []));
    await expect(refused.result()).rejects.toThrow();
    const refusedHistory = (await refused.fetchHistory()).events ?? [];
    expect(refusedHistory.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([1]);
    expect(refusedHistory.find((e) => e.activityTaskFailedEventAttributes)!.activityTaskFailedEventAttributes!.failure!.message).toMatch(
      /refused by Postgres \(SQLSTATE 22P02\)/,
    );
    // A run saved for another mapping is refused, once.
    const other = await startDirectly(await saveRun(null, [live], 'accounts_to_users'));
    await expect(other.result()).rejects.toThrow();
    const otherHistory = (await other.fetchHistory()).events ?? [];
    expect(otherHistory.find((e) => e.activityTaskFailedEventAttributes)!.activityTaskFailedEventAttributes!.failure!.message).toMatch(
      /is not a run of mapping users_to_accounts/,
    );
    expect(await accountName(Number(live))).toBe('Live');
  });
});
