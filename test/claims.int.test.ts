// A claim never outlives its process: `ferry start` killed with SIGKILL while
// it holds claims on a 300-row burst; a restart carries every log within
// seconds (not after listener.redispatchAfter), and each target row is written once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exampleMappings } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
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
  config = testConfig(FILE, db, { listener: { sweepInterval: '1s', redispatchAfter: '5m' }, mappings: exampleMappings.slice(0, 1) });
});
afterAll(async () => {
  if (child && child.child.exitCode === null) child.child.kill('SIGKILL');
  await restarted?.stop();
  await db?.drop();
});

it('a restart after kill -9 carries every claimed log within seconds, each written once', async () => {
  const file = writeCliConfig('claims.config.ts', {
    database: { url: db.url, poolSize: 4 },
    temporal: config.temporal,
    listener: { sweepInterval: '1s', redispatchAfter: '5m' },
    metrics: false,
  }, 'exampleMappings.slice(0, 1)');
  expect((await spawnCli(['migrate', '--config', file]).exited)).toBe(0);
  child = spawnCli(['start', '--config', file, '--log-level', 'info']);
  await waitFor('ferry start polling and listening', () => {
    if (child!.child.exitCode !== null) throw new Error(`ferry start exited ${child!.child.exitCode}: ${child!.stderr()}`);
    const msgs = jsonLines(child!.stdout()).map((l) => l.msg);
    return msgs.includes('worker polling') && msgs.includes('listening');
  }, { timeoutMs: 90_000 });

  await db.pool.query(`INSERT INTO portal.users (email, full_name) SELECT 'k' || g || '@example.com', 'Kill ' || g FROM generate_series(1, ${ROWS}) g`);
  // Kill once it holds claims on logs it has not carried yet.
  await waitFor('claims held', async () =>
    (await db.pool.query(`SELECT count(*)::int AS n FROM ferry.database_trigger_log WHERE status = 'pending' AND claimed_by IS NOT NULL`)).rows[0].n > 0,
  );
  child.child.kill('SIGKILL');
  await child.exited;
  const left = (await db.pool.query(`SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
      count(*) FILTER (WHERE status = 'pending' AND dispatched_at IS NOT NULL)::int AS claimed FROM ferry.database_trigger_log`)).rows[0];
  expect(left.pending).toBeGreaterThan(0);

  restarted = await startFerry(config);
  const since = Date.now();
  await waitFor('all synced', async () =>
    (await db.pool.query(`SELECT count(*) FILTER (WHERE status = 'synced')::int AS n FROM ferry.database_trigger_log`)).rows[0].n === ROWS,
  { timeoutMs: 30_000 });
  const recoveryMs = Date.now() - since;
  if (process.env.FERRY_TEST_REPORT) console.log(`kill -9 with ${left.pending} pending (${left.claimed} claimed): all synced ${recoveryMs} ms after the restart`);
  expect(recoveryMs).toBeLessThan(20_000);
  const writes = (await db.pool.query(`SELECT count(*)::int AS n, count(DISTINCT key)::int AS keys FROM public.account_writes`)).rows[0];
  expect(writes).toEqual({ n: ROWS, keys: ROWS });
});
