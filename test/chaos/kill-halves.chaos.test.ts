// `ferry listen` and `ferry worker` as separate processes; kill -9 of one of
// them mid-burst, restarted at once, while the other keeps running.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServing, type ServeCommand, type ServingCli } from '../support/cli.js';
import { CONVERGED, convergence, TARGET_WRITES_SQL } from '../support/convergence.js';
import { faultConfigFile, killAndRestart, MAX_STALL_MS, migrateCli, Processes, runFaultCase } from '../support/fault-case.js';
import { createTestDatabase, type TestDatabase } from '../support/harness.js';

const FILE = import.meta.url;
const ROWS = Number(process.env.FERRY_CHAOS_ROWS ?? 2000);

let db: TestDatabase;
let configFile: string;
const running: Partial<Record<ServeCommand, ServingCli>> = {};
const procs = new Processes();

beforeAll(async () => {
  db = await createTestDatabase(FILE, TARGET_WRITES_SQL);
  configFile = faultConfigFile(FILE, db.url);
  await migrateCli(configFile);
  [running.listen, running.worker] = await Promise.all([startServing('listen', configFile), startServing('worker', configFile)]);
  procs.add(running.listen);
  procs.add(running.worker);
});

afterAll(async () => {
  await procs.killAll();
  await db?.drop();
});

it.each(['listen', 'worker'] as const)('kill -9 of ferry %s alone, 2 s into the burst', async (command) => {
  const { recovery } = await runFaultCase({
    name: `kill -9 ferry ${command} at 2 s`,
    pool: db.pool,
    burst: { url: db.url, rows: ROWS, updateEvery: 10, deleteEvery: 50 },
    faultAfterMs: 2000,
    fault: async () => void (running[command] = procs.add(await killAndRestart(running[command]!, configFile))),
  });
  expect(await convergence(db.pool)).toMatchObject(CONVERGED);
  expect(recovery.stallMs).toBeLessThan(MAX_STALL_MS);
});
