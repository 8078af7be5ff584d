// `ferry listen` and `ferry worker` as separate processes; kill -9 of one of
// them mid-burst, restarted at once, while the other keeps running.
import { afterAll, beforeAll, it } from 'vitest';
import type { ServeCommand, ServingCli } from '../support/cli.js';
import { expectRecovered, faultDeployment, killAndRestart, runFaultCase, type FaultDeployment } from '../support/fault-case.js';

const FILE = import.meta.url;
const ROWS = Number(process.env.FERRY_CHAOS_ROWS ?? 2000);

let d: FaultDeployment;
const running: Partial<Record<ServeCommand, ServingCli>> = {};

beforeAll(async () => {
  d = await faultDeployment(FILE);
  [running.listen, running.worker] = await Promise.all([d.serve('listen'), d.serve('worker')]);
});
afterAll(() => d?.close());

it.each(['listen', 'worker'] as const)('kill -9 of ferry %s alone, 2 s into the burst', async (command) => {
  const { recovery } = await runFaultCase({
    name: `kill -9 ferry ${command} at 2 s`,
    pool: d.db.pool,
    burst: { url: d.db.url, rows: ROWS, updateEvery: 10, deleteEvery: 50 },
    faultAfterMs: 2000,
    fault: async () => void (running[command] = d.procs.add(await killAndRestart(running[command]!, d.configFile))),
  });
  await expectRecovered(d.db.pool, recovery);
});
