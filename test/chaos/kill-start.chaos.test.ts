// kill -9 of `ferry start` at 0.5 s, 2 s and 5 s into a burst of 2,000 rows,
// three times in a row on one deployment, restarted at once each time: every
// change arrives, once, and the claims the dead process held cost seconds.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServing, type ServingCli } from '../support/cli.js';
import { CONVERGED, convergence, TARGET_WRITES_SQL } from '../support/convergence.js';
import { faultConfigFile, killAndRestart, MAX_STALL_MS, migrateCli, Processes, runFaultCase } from '../support/fault-case.js';
import { createTestDatabase, type TestDatabase } from '../support/harness.js';

const FILE = import.meta.url;
const ROWS = Number(process.env.FERRY_CHAOS_ROWS ?? 2000);
// FERRY_CHAOS_ROUNDS=3 runs the three kills three times over (nine in a row).
const ROUNDS = Number(process.env.FERRY_CHAOS_ROUNDS ?? 1);
const KILL_AT = Array.from({ length: ROUNDS }, () => [500, 2000, 5000]).flat();

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

it.each(KILL_AT.map((ms, i) => [i + 1, ms]))('kill -9 #%i of ferry start %i ms into the burst', async (n, ms) => {
  const { recovery } = await runFaultCase({
    name: `kill -9 ferry start at ${ms / 1000} s (#${n})`,
    pool: db.pool,
    burst: { url: db.url, rows: ROWS, updateEvery: 10, deleteEvery: 50 },
    faultAfterMs: ms,
    fault: async () => void (ferry = procs.add(await killAndRestart(ferry, configFile))),
  });
  expect(await convergence(db.pool)).toMatchObject(CONVERGED);
  expect(recovery.stallMs).toBeLessThan(MAX_STALL_MS);
});
