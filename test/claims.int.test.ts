// A claim never outlives its process: `ferry start` killed with SIGKILL while
// it holds claims on a 300-row burst; a restart carries every log within
// seconds (not after listener.redispatchAfter), and each target row is written once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
import { ClaimOwner } from '../src/dispatch/claims.js';
import { logTable } from '../src/db/index.js';
import { migrate } from '../src/capture/migrate.js';
import type { FerryProcess } from '../src/runtime.js';
import { jsonLines, spawnCli, writeCliConfig, type CliRun } from './support/cli.js';
import { createTestDatabase, startFerry, testConfig, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
const ROWS = 300;
// Every write to the target, counted by a trigger.
const COUNT_WRITES = `
  CREATE TABLE public.account_writes (key text NOT NULL);
  CREATE FUNCTION public.count_account_write() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN INSERT INTO public.account_writes VALUES (NEW.portal_user_id__c); RETURN NULL; END $$;
  CREATE TRIGGER count_writes AFTER INSERT OR UPDATE ON salesforce.account FOR EACH ROW EXECUTE FUNCTION public.count_account_write();`;

let db: TestDatabase;
let config: FerryConfig;
let child: CliRun | undefined;
let restarted: FerryProcess | undefined;

beforeAll(async () => {
  db = await createTestDatabase(FILE, COUNT_WRITES);
  // redispatchAfter stays long: what heals the killed process' claims must be the claims themselves.
  config = testConfig(FILE, db, { listener: { sweepInterval: '1s', redispatchAfter: '5m' }, mappings: exampleSubset('users_to_accounts') });
});
afterAll(async () => {
  if (child && child.child.exitCode === null) child.child.kill('SIGKILL');
  await restarted?.stop();
  await db?.drop();
});

// Runs before any Ferry is up in this database, so only the sweep touches these logs.
it('a sweep gives back only claims no live dispatcher stands behind: never a new log, a live claim or a running backfill', async () => {
  await migrate(db.pool, config);
  const live = new ClaimOwner(db.url);
  try {
    const liveId = await live.id();
    const insert = async (kind: string, dispatched: string | null, owner: number | null) =>
      (
        await db.pool.query(
          `INSERT INTO ferry.database_trigger_log (mapping, table_name, op, row_key, kind, dispatched_at, claimed_by)
         VALUES ('users_to_accounts', 'portal.users', 'UPDATE', 'k', $1, $2::timestamptz, $3) RETURNING id`,
          [kind, dispatched, owner],
        )
      ).rows[0].id as string;
    const fresh = await insert('change', null, null); // a dispatch round's to claim, maybe into a batch
    const dead = await insert('change', new Date().toISOString(), 999); // no lock held for 999
    const unowned = await insert('change', new Date().toISOString(), null); // claimed before owners existed
    const backfill = await insert('backfill', new Date().toISOString(), null); // its backfill workflow carries it
    const liveClaim = await insert('change', new Date().toISOString(), liveId);
    const ancient = await insert('change', new Date(Date.now() - 600_000).toISOString(), liveId); // older than redispatchAfter

    expect(await logTable.releaseOrphans(db.pool, 300_000)).toBe(3);
    const { rows } = await db.pool.query(`SELECT id, dispatched_at IS NOT NULL AS claimed FROM ferry.database_trigger_log ORDER BY id`);
    const claimed = Object.fromEntries(rows.map((r) => [r.id, r.claimed]));
    expect(claimed).toEqual({ [fresh]: false, [dead]: false, [unowned]: false, [backfill]: true, [liveClaim]: true, [ancient]: false });
  } finally {
    await live.close();
    await db.pool.query(`DELETE FROM ferry.database_trigger_log`);
  }
});

it('a restart after kill -9 carries every claimed log within seconds, each written once', async () => {
  const file = writeCliConfig(
    'claims.config.ts',
    {
      database: { url: db.url, poolSize: 4 },
      temporal: config.temporal,
      listener: { sweepInterval: '1s', redispatchAfter: '5m' },
      metrics: false,
    },
    "exampleSubset('users_to_accounts')",
  );
  expect(await spawnCli(['migrate', '--config', file]).exited).toBe(0);
  child = spawnCli(['start', '--config', file, '--log-level', 'info']);
  await waitFor(
    'ferry start polling and listening',
    () => {
      if (child!.child.exitCode !== null) throw new Error(`ferry start exited ${child!.child.exitCode}: ${child!.stderr()}`);
      const msgs = jsonLines(child!.stdout()).map((l) => l.msg);
      return msgs.includes('worker polling') && msgs.includes('listening');
    },
    { timeoutMs: 90_000 },
  );

  await db.pool.query(
    `INSERT INTO portal.users (email, full_name) SELECT 'k' || g || '@example.com', 'Kill ' || g FROM generate_series(1, ${ROWS}) g`,
  );
  // Kill once it holds claims on logs it has not carried yet.
  await waitFor(
    'claims held',
    async () =>
      (await db.pool.query(`SELECT count(*)::int AS n FROM ferry.database_trigger_log WHERE status = 'pending' AND claimed_by IS NOT NULL`)).rows[0]
        .n > 0,
  );
  child.child.kill('SIGKILL');
  await child.exited;
  const left = (
    await db.pool.query(`SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
      count(*) FILTER (WHERE status = 'pending' AND dispatched_at IS NOT NULL)::int AS claimed FROM ferry.database_trigger_log`)
  ).rows[0];
  expect(left.pending).toBeGreaterThan(0);

  restarted = await startFerry(config);
  const since = Date.now();
  // The claim-specific promise: within seconds every pending log is claimed by a live dispatcher.
  await waitFor(
    "the dead owner's claims taken over",
    async () => {
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n FROM ferry.database_trigger_log WHERE status = 'pending' AND (claimed_by IS NULL OR claimed_by NOT IN (
         SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::oid AND objsubid = 2
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())))`,
        [logTable.CLAIM_LOCK_CLASS],
      );
      return rows[0].n === 0;
    },
    { timeoutMs: 10_000 },
  );
  const takenOverMs = Date.now() - since;
  // Then the syncs themselves, at whatever rate this machine carries.
  await waitFor(
    'all synced',
    async () => {
      const { rows } = await db.pool.query(
        `SELECT status, dispatched_at IS NOT NULL AS claimed, count(*)::int AS n FROM ferry.database_trigger_log GROUP BY 1, 2 ORDER BY 1, 2`,
      );
      if (rows.length === 1 && rows[0].status === 'synced') return true;
      throw new Error(JSON.stringify(rows)); // shown when the wait times out
    },
    { timeoutMs: 120_000 },
  );
  const recoveryMs = Date.now() - since;
  if (process.env.FERRY_TEST_REPORT)
    console.log(
      `kill -9 with ${left.pending} pending (${left.claimed} claimed): claims taken over ${takenOverMs} ms, all synced ${recoveryMs} ms after the restart`,
    );
  const writes = (await db.pool.query(`SELECT count(*)::int AS n, count(DISTINCT key)::int AS keys FROM public.account_writes`)).rows[0];
  expect(writes).toEqual({ n: ROWS, keys: ROWS });
}, 300_000); // a `ferry start` child bundles its workflows first: tens of seconds on a busy machine
