// Postgres itself restarted mid-burst (stopped, then started on the same port
// and data): a private cluster this file starts, not the shared one. Ferry's
// connections, the listener's included, all break; so do the app's.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectRecovered, faultDeployment, runFaultCase, type FaultDeployment } from '../support/fault-case.js';
import { privatePostgres, type PrivatePostgres } from '../support/private-postgres.js';

const FILE = import.meta.url;
const ROWS = Number(process.env.FERRY_CHAOS_ROWS ?? 2000);

let cluster: PrivatePostgres;
let d: FaultDeployment;

beforeAll(async () => {
  cluster = await privatePostgres();
  d = await faultDeployment(FILE, { adminUrl: cluster.adminUrl });
  await d.serve('start');
});

afterAll(async () => {
  await d?.close();
  await cluster?.destroy();
});

const FAULT_AFTER_MS = 2000;

it('Postgres restarted 2 s into the burst', async () => {
  const { recovery, burst } = await runFaultCase({
    name: 'Postgres restarted at 2 s',
    pool: d.db.pool,
    burst: { url: d.db.url, rows: ROWS, updateEvery: 10, deleteEvery: 50 },
    faultAfterMs: FAULT_AFTER_MS,
    fault: async () => {
      await cluster.stop();
      await cluster.start();
    },
  });
  // The app saw the restart too, when it was still writing (a second past the
  // fault leaves no doubt): a small burst on a quiet machine (300 rows: under
  // half a second) is over before the fault, which then strikes Ferry alone,
  // its backlog still in flight.
  if (burst.ms > FAULT_AFTER_MS + 1000) expect(burst.errors).toBeGreaterThan(0);
  await expectRecovered(d.db.pool, recovery);
});
