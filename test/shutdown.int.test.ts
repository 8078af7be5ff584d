// SIGTERM on `ferry start` while syncs are in flight: the process finishes
// what it holds, exits 0, and a second start carries the rest; nothing is lost.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
import { syncLogWorkflowId } from '../src/contract/index.js';
import { migrate } from '../src/capture/migrate.js';
import { jsonLines, startServing, writeCliConfig, type CliRun } from './support/cli.js';
import { createTestDatabase, logs, testConfig, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
const ROWS = 40;

let db: TestDatabase;
let config: FerryConfig;
let configFile: string;
const running: CliRun[] = [];

// Every transform takes 400 ms and four run at once, so SIGTERM lands while
// syncs are in flight.
const SLOW_USERS = `[{ ...exampleMappings[0], parents: [], transform: async (row) => {
  await new Promise((r) => setTimeout(r, 400));
  return { portal_user_id__c: String(row.id), name: row.full_name, email__c: row.email, isdeleted: false };
} }]`;

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  config = testConfig(FILE, db, { mappings: exampleSubset('users_to_accounts') });
  await migrate(db.pool, config);
  configFile = writeCliConfig(
    'shutdown.config.ts',
    {
      database: { url: db.url, poolSize: 4 },
      temporal: config.temporal,
      listener: { sweepInterval: '1s' },
      metrics: { port: 0, host: '127.0.0.1' },
    },
    SLOW_USERS,
  );
});

afterAll(async () => {
  for (const run of running) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  await db?.drop();
});

/** `ferry start`, once its /healthz says all is up. */
async function start(): Promise<CliRun> {
  // A short grace, so SIGTERM cannot wait for the whole backlog: what is left must survive the restart.
  const run = await startServing('start', configFile, ['--log-level', 'info', '--shutdown-grace', '1s']);
  running.push(run);
  return run;
}

it('SIGTERM finishes in-flight syncs, exits 0, and a restart carries every remaining log', async () => {
  const first = await start();
  const { rows } = await db.pool.query(
    `INSERT INTO portal.users (email, full_name) SELECT 'u' || g || '@example.com', 'User ' || g FROM generate_series(1, ${ROWS}) g RETURNING id`,
  );
  await waitFor('a first log synced', async () => (await logs(db.pool)).some((l) => l.status === 'synced'));
  const sigtermAt = Date.now();
  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);
  const stopMs = Date.now() - sigtermAt;

  const lines = jsonLines(first.stdout());
  const stopping = lines.findIndex((l) => String(l.msg).startsWith('stopping'));
  expect(stopping).toBeGreaterThan(-1);
  expect(lines.at(-1)!.msg).toBe('stopped');
  // Syncs that were in flight at SIGTERM were finished, not dropped.
  expect(lines.slice(stopping).some((l) => l.status === 'synced')).toBe(true);
  // Every line about a sync names its log, mapping and workflow.
  const syncLines = lines.filter((l) => l.logId !== undefined);
  expect(syncLines.length).toBeGreaterThan(0);
  for (const l of syncLines)
    expect(l).toMatchObject({ logId: expect.any(Number), mapping: 'users_to_accounts', workflowId: syncLogWorkflowId(config.instance, l.logId) });

  // Work was left for the next start (else this test proves nothing about it).
  const afterFirst = await logs(db.pool);
  if (process.env.FERRY_TEST_REPORT)
    console.log(
      `SIGTERM to exit: ${stopMs} ms; then ${afterFirst.filter((l) => l.status === 'synced').length} synced, ${afterFirst.filter((l) => l.status === 'pending').length} pending`,
    );
  expect(afterFirst.filter((l) => l.status === 'pending').length).toBeGreaterThan(0);

  const second = await start();
  await waitFor(
    'every log synced',
    async () => {
      const all = await logs(db.pool);
      return all.length === ROWS && all.every((l) => l.status === 'synced');
    },
    { timeoutMs: 60_000 },
  );
  const accounts = (await db.pool.query(`SELECT portal_user_id__c FROM salesforce.account ORDER BY portal_user_id__c::int`)).rows.map(
    (r) => r.portal_user_id__c,
  );
  expect(accounts).toEqual(rows.map((r) => String(r.id)));
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
});
