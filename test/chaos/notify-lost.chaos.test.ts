// NOTIFY lost: the listener's connection is killed again and again while a
// burst commits, so most notifications reach no one. The log is the truth:
// reconnect catch-up and the sweeper carry every change anyway.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectRecovered, faultDeployment, runFaultCase, terminateListenerUntil, type FaultDeployment } from '../support/fault-case.js';

const FILE = import.meta.url;
const ROWS = Number(process.env.FERRY_CHAOS_ROWS ?? 2000);

let d: FaultDeployment;

beforeAll(async () => {
  d = await faultDeployment(FILE);
  await d.serve('start');
});
afterAll(() => d?.close());

it("the listener's connection killed every 300 ms while the burst commits", async () => {
  let killed = 0;
  const { recovery } = await runFaultCase({
    name: 'NOTIFY lost (listener connection killed every 300 ms)',
    pool: d.db.pool,
    burst: { url: d.db.url, rows: ROWS, updateEvery: 10, deleteEvery: 50 },
    faultAfterMs: 0,
    fault: async (burst) => void (killed = await terminateListenerUntil(d.db.pool, burst.done)),
  });
  expect(killed).toBeGreaterThan(0);
  await expectRecovered(d.db.pool, recovery);
});
