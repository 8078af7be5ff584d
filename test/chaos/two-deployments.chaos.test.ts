// Two deployments at once: two databases (log ids both start at 1), one
// Temporal namespace, a task queue each. Neither touches the other's logs:
// their workflow ids never meet, and each carries all of its own changes.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBurst } from '../support/burst.js';
import { startServing } from '../support/cli.js';
import { CONVERGED, convergence, TARGET_WRITES_SQL } from '../support/convergence.js';
import { faultConfigFile, migrateCli, Processes, waitAllFinal } from '../support/fault-case.js';
import { createTestDatabase, type TestDatabase } from '../support/harness.js';
import { rateSince, report } from '../support/recovery.js';

const FILE = import.meta.url;
const ROWS = Number(process.env.FERRY_CHAOS_ROWS ?? 2000) / 2;

const dbs: TestDatabase[] = [];
const procs = new Processes();

beforeAll(async () => {
  for (const side of ['a', 'b']) {
    const db = await createTestDatabase(FILE, TARGET_WRITES_SQL, { suffix: side });
    dbs.push(db);
    // Same namespace (the file's), a task queue each.
    const configFile = faultConfigFile(FILE, db.url, {}, `-${side}`);
    await migrateCli(configFile);
    procs.add(await startServing('start', configFile));
  }
});

afterAll(async () => {
  await procs.killAll();
  for (const db of dbs) await db.drop();
});

it('two deployments in one namespace, bursts at the same time, never cross', async () => {
  const bursts = dbs.map((db, i) => startBurst({ url: db.url, rows: ROWS, updateEvery: 10, deleteEvery: 50, tag: `side${i}-` }));
  await Promise.all(bursts.map((b) => b.done));
  await Promise.all(dbs.map((db) => waitAllFinal(db.pool)));

  const ids: Set<string>[] = [];
  for (const db of dbs) {
    expect(await convergence(db.pool)).toMatchObject(CONVERGED);
    const { rows } = await db.pool.query(`SELECT DISTINCT workflow_id FROM ferry.database_trigger_log WHERE status = 'synced'`);
    expect(rows.every((r) => r.workflow_id)).toBe(true);
    ids.push(new Set(rows.map((r) => r.workflow_id as string)));
  }
  const shared = [...ids[0]!].filter((id) => ids[1]!.has(id));
  expect(shared.slice(0, 5)).toEqual([]);
  const [a, b] = await Promise.all(dbs.map((db) => rateSince(db.pool, 0)));
  report({ case: 'two deployments, one namespace', logsA: a!.logs, rateA: a!.rate, logsB: b!.logs, rateB: b!.rate, sharedWorkflowIds: shared.length });
});
