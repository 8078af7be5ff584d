// The fault suite's bounded subset (the whole suite: npm run chaos): kill -9
// of `ferry start` mid-burst, and lost notifications. Real processes, real
// Postgres, the run's Temporal server.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServing, type ServingCli } from './support/cli.js';
import { CONVERGED, convergence, TARGET_WRITES_SQL } from './support/convergence.js';
import { faultConfigFile, killAndRestart, MAX_STALL_MS, migrateCli, Processes, runFaultCase, terminateListenerUntil } from './support/fault-case.js';
import { createTestDatabase, type TestDatabase } from './support/harness.js';

const FILE = import.meta.url;

let db: TestDatabase;
let configFile: string;
let ferry: ServingCli;
const procs = new Processes();

beforeAll(async () => {
  db = await createTestDatabase(FILE, TARGET_WRITES_SQL);
  configFile = faultConfigFile(FILE, db.url);
  await migrateCli(configFile);
  ferry = procs.add(await startServing('start', configFile));
});

afterAll(async () => {
  await procs.killAll();
  await db?.drop();
});

// Skipped until a claim never outlives its process (issue 8 §1): today the
// dead process' claims wait for listener.redispatchAfter (5 minutes).
it.skip('kill -9 of ferry start 2 s into a burst: restarted, it carries every change, once, within seconds', async () => {
  const { recovery } = await runFaultCase({
    name: 'kill -9 ferry start at 2 s (npm test)',
    pool: db.pool,
    burst: { url: db.url, rows: 300, updateEvery: 10, deleteEvery: 50 },
    faultAfterMs: 2000,
    fault: async () => void (ferry = procs.add(await killAndRestart(ferry, configFile))),
    drainTimeoutMs: 90_000,
  });
  expect(await convergence(db.pool)).toMatchObject(CONVERGED);
  expect(recovery.stallMs).toBeLessThan(MAX_STALL_MS);
}, 150_000);

it("NOTIFY lost: the listener's connection killed while rows commit; the sweeper carries them", async () => {
  let killed = 0;
  const { recovery } = await runFaultCase({
    name: 'NOTIFY lost (npm test)',
    pool: db.pool,
    burst: { url: db.url, rows: 100, updateEvery: 10 },
    faultAfterMs: 0,
    fault: async (burst) => void (killed = await terminateListenerUntil(db.pool, burst.done)),
    drainTimeoutMs: 90_000,
  });
  expect(killed).toBeGreaterThan(0);
  expect(await convergence(db.pool)).toMatchObject(CONVERGED);
  expect(recovery.stallMs).toBeLessThan(MAX_STALL_MS);
}, 120_000);
