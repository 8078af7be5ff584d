// The fault suite's bounded subset (the whole suite: npm run chaos): kill -9
// of `ferry start` mid-burst, and lost notifications. Real processes, real
// Postgres, the run's Temporal server.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ServingCli } from './support/cli.js';
import {
  expectRecovered,
  faultDeployment,
  killAndRestart,
  runFaultCase,
  terminateListenerUntil,
  type FaultDeployment,
} from './support/fault-case.js';

const FILE = import.meta.url;

let d: FaultDeployment;
let ferry: ServingCli;

beforeAll(async () => {
  d = await faultDeployment(FILE);
  ferry = await d.serve('start');
});
afterAll(() => d?.close());

it('kill -9 of ferry start 2 s into a burst: restarted, it carries every change, once, within seconds', async () => {
  const { recovery } = await runFaultCase({
    name: 'kill -9 ferry start at 2 s (npm test)',
    pool: d.db.pool,
    burst: { url: d.db.url, rows: 300, updateEvery: 10, deleteEvery: 50 },
    faultAfterMs: 2000,
    fault: async () => void (ferry = d.procs.add(await killAndRestart(ferry, d.configFile))),
    drainTimeoutMs: 90_000,
  });
  await expectRecovered(d.db.pool, recovery);
}, 150_000);

it("NOTIFY lost: the listener's connection killed while rows commit; the sweeper carries them", async () => {
  let killed = 0;
  const { recovery } = await runFaultCase({
    name: 'NOTIFY lost (npm test)',
    pool: d.db.pool,
    burst: { url: d.db.url, rows: 100, updateEvery: 10 },
    faultAfterMs: 0,
    fault: async (burst) => void (killed = await terminateListenerUntil(d.db.pool, burst.done)),
    drainTimeoutMs: 90_000,
  });
  expect(killed).toBeGreaterThan(0);
  await expectRecovered(d.db.pool, recovery);
}, 120_000);
