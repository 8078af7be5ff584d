// Two deployments at once: two databases (log ids both start at 1), one
// Temporal namespace, a task queue each. Neither touches the other's logs:
// their workflow ids never meet, and each carries all of its own changes.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBurst } from '../support/burst.js';
import { expectRecovered, faultDeployment, waitAllFinal, type FaultDeployment } from '../support/fault-case.js';
import { rateSince, report } from '../support/recovery.js';

const FILE = import.meta.url;
const ROWS = Number(process.env.FERRY_CHAOS_ROWS ?? 2000) / 2;

const sides: FaultDeployment[] = [];

beforeAll(async () => {
  // Same namespace (the file's); the suffix gives each its database and task queue.
  for (const suffix of ['a', 'b']) sides.push(await faultDeployment(FILE, { suffix }));
  await Promise.all(sides.map((d) => d.serve('start')));
});
afterAll(async () => {
  for (const d of sides) await d.close();
});

it('two deployments in one namespace, bursts at the same time, never cross', async () => {
  const bursts = sides.map(({ db }, i) => startBurst({ url: db.url, rows: ROWS, updateEvery: 10, deleteEvery: 50, tag: `side${i}-` }));
  await Promise.all(bursts.map((b) => b.done));
  await Promise.all(sides.map(({ db }) => waitAllFinal(db.pool)));

  const ids: Set<string>[] = [];
  for (const { db } of sides) {
    await expectRecovered(db.pool);
    const { rows } = await db.pool.query(`SELECT DISTINCT workflow_id FROM ferry.database_trigger_log WHERE status = 'synced'`);
    expect(rows.every((r) => r.workflow_id)).toBe(true);
    ids.push(new Set(rows.map((r) => r.workflow_id as string)));
  }
  const shared = [...ids[0]!].filter((id) => ids[1]!.has(id));
  expect(shared.slice(0, 5)).toEqual([]);
  const [a, b] = await Promise.all(sides.map(({ db }) => rateSince(db.pool, 0)));
  report({
    case: 'two deployments, one namespace',
    logsA: a!.logs,
    rateA: a!.rate,
    logsB: b!.logs,
    rateB: b!.rate,
    sharedWorkflowIds: shared.length,
  });
});
