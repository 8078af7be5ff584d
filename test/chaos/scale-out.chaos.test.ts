// Scale-out on one box: a 5,000-row burst with concurrent updates carried by
// one `ferry start`, then another by two `ferry start` plus an extra
// `ferry listen` and `ferry worker` on the same database and task queue.
// Same end state, each row written once; the two rates side by side.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBurst } from '../support/burst.js';
import { jsonLines, type ServingCli } from '../support/cli.js';
import { expectRecovered, faultDeployment, waitAllFinal, type FaultDeployment } from '../support/fault-case.js';
import { lastLogId, rateSince, report } from '../support/recovery.js';

const FILE = import.meta.url;
const ROWS = Number(process.env.FERRY_CHAOS_SCALE_ROWS ?? 5000);

let d: FaultDeployment;

beforeAll(async () => {
  d = await faultDeployment(FILE);
});
afterAll(() => d?.close());

/** A burst of ROWS inserts with an update of a recent row after every third and a delete after every 100th; resolves when all is final. */
async function burstPhase(tag: string) {
  const after = await lastLogId(d.db.pool);
  const burst = startBurst({ url: d.db.url, rows: ROWS, updateEvery: 3, deleteEvery: 100, tag });
  await burst.done;
  await waitAllFinal(d.db.pool);
  return rateSince(d.db.pool, after);
}

/** Logs each process carried this phase, from its own log lines: one per single sync, one per batch chunk with its counts. */
const carriedBy = (runs: ServingCli[], since: number[]) =>
  runs.map((r, i) => jsonLines(r.stdout()).reduce((n, l) => n + carriedIn(l), 0) - (since[i] ?? 0));

function carriedIn(line: Record<string, unknown>): number {
  if (line.logId !== undefined && line.status !== undefined) return 1;
  const byMapping = line.byMapping as Record<string, { synced: number; skipped: number }> | undefined;
  return byMapping ? Object.values(byMapping).reduce((n, c) => n + c.synced + c.skipped, 0) : 0;
}

it('two starts + a listen + a worker: the same end state as one process, each row written once', async () => {
  const first = await d.serve('start');
  const one = await burstPhase('one-');
  await expectRecovered(d.db.pool);
  const before = carriedBy([first], []);

  const more = await Promise.all((['start', 'listen', 'worker'] as const).map((c) => d.serve(c)));
  const all = [first, ...more];
  const four = await burstPhase('four-');
  await expectRecovered(d.db.pool);
  const perProcess = carriedBy(all, before);
  // Every process with a worker took a share.
  expect(perProcess.filter((n, i) => all[i]!.command !== 'listen' && n === 0)).toEqual([]);

  report({
    case: `scale-out, ${ROWS} rows + updates`,
    oneProcessLogs: one.logs,
    oneProcessRate: one.rate,
    fourProcessLogs: four.logs,
    fourProcessRate: four.rate,
    syncsPerProcess: all.map((r, i) => `${r.command}:${perProcess[i]}`).join(' '),
  });
});
