// Scale-out on one box: a 5,000-row burst with concurrent updates carried by
// one `ferry start`, then another by two `ferry start` plus an extra
// `ferry listen` and `ferry worker` on the same database and task queue.
// Same end state, each row written once; the two rates side by side.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBurst } from '../support/burst.js';
import { jsonLines, startServing, type ServingCli } from '../support/cli.js';
import { CONVERGED, convergence, TARGET_WRITES_SQL } from '../support/convergence.js';
import { faultConfigFile, migrateCli, Processes, waitAllFinal } from '../support/fault-case.js';
import { createTestDatabase, type TestDatabase } from '../support/harness.js';
import { lastLogId, rateSince, report } from '../support/recovery.js';

const FILE = import.meta.url;
const ROWS = Number(process.env.FERRY_CHAOS_SCALE_ROWS ?? 5000);

let db: TestDatabase;
let configFile: string;
const procs = new Processes();

beforeAll(async () => {
  db = await createTestDatabase(FILE, TARGET_WRITES_SQL);
  configFile = faultConfigFile(FILE, db.url);
  await migrateCli(configFile);
});

afterAll(async () => {
  await procs.killAll();
  await db?.drop();
});

/** A burst of ROWS inserts with an update of a recent row after every third and a delete after every 100th; resolves when all is final. */
async function burstPhase(tag: string) {
  const after = await lastLogId(db.pool);
  const burst = startBurst({ url: db.url, rows: ROWS, updateEvery: 3, deleteEvery: 100, tag });
  await burst.done;
  await waitAllFinal(db.pool);
  return rateSince(db.pool, after);
}

/** Syncs each process carried this phase (its own log lines). */
const carriedBy = (runs: ServingCli[], since: number[]) =>
  runs.map((r, i) => jsonLines(r.stdout()).filter((l) => l.logId !== undefined && l.status !== undefined).length - (since[i] ?? 0));

it('two starts + a listen + a worker: the same end state as one process, each row written once', async () => {
  const first = procs.add(await startServing('start', configFile));
  const one = await burstPhase('one-');
  expect(await convergence(db.pool)).toMatchObject(CONVERGED);
  const before = carriedBy([first], []);

  const more = await Promise.all((['start', 'listen', 'worker'] as const).map((c) => startServing(c, configFile)));
  more.forEach((r) => procs.add(r));
  const all = [first, ...more];
  const four = await burstPhase('four-');
  expect(await convergence(db.pool)).toMatchObject(CONVERGED);
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
