// kill -9 of `ferry start` at 0.5 s, 2 s and 5 s into a burst of 2,000 rows,
// three times in a row on one deployment, restarted at once each time: every
// change arrives, once, and the claims the dead process held cost seconds.
import { afterAll, beforeAll, it } from 'vitest';
import type { ServingCli } from '../support/cli.js';
import { expectRecovered, faultDeployment, killAndRestart, runFaultCase, type FaultDeployment } from '../support/fault-case.js';

const FILE = import.meta.url;
const ROWS = Number(process.env.FERRY_CHAOS_ROWS ?? 2000);
// FERRY_CHAOS_ROUNDS=3 runs the three kills three times over (nine in a row).
const ROUNDS = Number(process.env.FERRY_CHAOS_ROUNDS ?? 1);
const KILL_AT = Array.from({ length: ROUNDS }, () => [500, 2000, 5000]).flat();

let d: FaultDeployment;
let ferry: ServingCli;

beforeAll(async () => {
  d = await faultDeployment(FILE);
  ferry = await d.serve('start');
});
afterAll(() => d?.close());

it.each(KILL_AT.map((ms, i) => [i + 1, ms]))('kill -9 #%i of ferry start %i ms into the burst', async (n, ms) => {
  const { recovery } = await runFaultCase({
    name: `kill -9 ferry start at ${ms / 1000} s (#${n})`,
    pool: d.db.pool,
    burst: { url: d.db.url, rows: ROWS, updateEvery: 10, deleteEvery: 50 },
    faultAfterMs: ms,
    fault: async () => void (ferry = d.procs.add(await killAndRestart(ferry, d.configFile))),
  });
  await expectRecovered(d.db.pool, recovery);
});
