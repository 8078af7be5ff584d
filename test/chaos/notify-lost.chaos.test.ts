// NOTIFY lost: the listener's connection is killed again and again while a
// burst commits, so most notifications reach no one. The log is the truth:
// reconnect catch-up and the sweeper carry every change anyway.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServing } from '../support/cli.js';
import { CONVERGED, convergence, TARGET_WRITES_SQL } from '../support/convergence.js';
import { faultConfigFile, MAX_STALL_MS, migrateCli, Processes, runFaultCase, terminateListenerUntil } from '../support/fault-case.js';
import { createTestDatabase, type TestDatabase } from '../support/harness.js';

const FILE = import.meta.url;
const ROWS = Number(process.env.FERRY_CHAOS_ROWS ?? 2000);

let db: TestDatabase;
let configFile: string;
const procs = new Processes();

beforeAll(async () => {
  db = await createTestDatabase(FILE, TARGET_WRITES_SQL);
  configFile = faultConfigFile(FILE, db.url);
  await migrateCli(configFile);
  procs.add(await startServing('start', configFile));
});

afterAll(async () => {
  await procs.killAll();
  await db?.drop();
});

it("the listener's connection killed every 300 ms while the burst commits", async () => {
  let killed = 0;
  const { recovery } = await runFaultCase({
    name: 'NOTIFY lost (listener connection killed every 300 ms)',
    pool: db.pool,
    burst: { url: db.url, rows: ROWS, updateEvery: 10, deleteEvery: 50 },
    faultAfterMs: 0,
    fault: async (burst) => void (killed = await terminateListenerUntil(db.pool, burst.done)),
  });
  expect(killed).toBeGreaterThan(0);
  expect(await convergence(db.pool)).toMatchObject(CONVERGED);
  expect(recovery.stallMs).toBeLessThan(MAX_STALL_MS);
});
