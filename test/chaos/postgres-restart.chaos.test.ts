// Postgres itself restarted mid-burst (stopped, then started on the same port
// and data): a private cluster this file starts, not the shared one. Ferry's
// connections, the listener's included, all break; so do the app's.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServing } from '../support/cli.js';
import { CONVERGED, convergence, TARGET_WRITES_SQL } from '../support/convergence.js';
import { faultConfigFile, MAX_STALL_MS, migrateCli, Processes, runFaultCase } from '../support/fault-case.js';
import { createTestDatabase, type TestDatabase } from '../support/harness.js';
import { privatePostgres, type PrivatePostgres } from '../support/private-postgres.js';

const FILE = import.meta.url;
const ROWS = Number(process.env.FERRY_CHAOS_ROWS ?? 2000);

let cluster: PrivatePostgres;
let db: TestDatabase;
let configFile: string;
const procs = new Processes();

beforeAll(async () => {
  cluster = await privatePostgres();
  db = await createTestDatabase(FILE, TARGET_WRITES_SQL, { adminUrl: cluster.adminUrl });
  configFile = faultConfigFile(FILE, db.url);
  await migrateCli(configFile);
  procs.add(await startServing('start', configFile));
});

afterAll(async () => {
  await procs.killAll();
  await db?.pool.end().catch(() => {});
  await cluster?.destroy();
});

it('Postgres restarted 2 s into the burst', async () => {
  const { recovery, burst } = await runFaultCase({
    name: 'Postgres restarted at 2 s',
    pool: db.pool,
    burst: { url: db.url, rows: ROWS, updateEvery: 10, deleteEvery: 50 },
    faultAfterMs: 2000,
    fault: async () => {
      await cluster.stop();
      await cluster.start();
    },
  });
  expect(burst.errors).toBeGreaterThan(0); // the app saw the crash too
  expect(await convergence(db.pool)).toMatchObject(CONVERGED);
  expect(recovery.stallMs).toBeLessThan(MAX_STALL_MS);
});
