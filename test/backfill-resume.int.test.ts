// A backfill whose worker is killed (SIGKILL) mid-way resumes where it was
// once a worker runs again, and ends equal.
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import { startBackfill } from '../src/bulk/backfill-run.js';
import { verifyMapping } from '../src/bulk/verify.js';
import type { FerryConfig } from '../src/config.js';
import { progressQuery, type BackfillProgress } from '../src/contract/index.js';
import { migrate } from '../src/capture/migrate.js';
import { jsonLines, spawnCli, writeCliConfig, type CliRun } from './support/cli.js';
import { createTestDatabase, testConfig, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
const ROWS = 200;

// 20 ms a row, so a chunk is in flight when the worker dies.
const SLOW_USERS = `[{ ...exampleSubset('users_to_accounts')[0], transform: async (row) => {
  await new Promise((r) => setTimeout(r, 20));
  return { portal_user_id__c: String(row.id), name: row.full_name, email__c: row.email, isdeleted: false };
} }]`;

let db: TestDatabase;
let config: FerryConfig;
let configFile: string;
let client: Client;
const running: CliRun[] = [];

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  await db.pool.query(
    `INSERT INTO portal.users (full_name, email) SELECT 'user ' || i, 'u' || i || '@example.com' FROM generate_series(1, ${ROWS}) i`,
  );
  config = testConfig(FILE, db, { mappings: exampleSubset('users_to_accounts') });
  await migrate(db.pool, config);
  configFile = writeCliConfig('resume.config.ts', { database: { url: db.url, poolSize: 4 }, temporal: config.temporal, metrics: false }, SLOW_USERS);
  client = new Client({ connection: await Connection.connect({ address: config.temporal.address }), namespace: config.temporal.namespace });
});

afterAll(async () => {
  for (const run of running) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  await client?.connection.close();
  await db?.drop();
});

async function worker(): Promise<CliRun> {
  const run = spawnCli(['worker', '--config', configFile, '--log-level', 'info']);
  running.push(run);
  await waitFor(
    'worker polling',
    () => {
      if (run.child.exitCode !== null) throw new Error(`ferry worker exited ${run.child.exitCode}: ${run.stderr()}`);
      return jsonLines(run.stdout()).some((l) => l.msg === 'worker polling');
    },
    { timeoutMs: 120_000 },
  );
  return run;
}

it('resumes after the worker is killed, and ends equal', async () => {
  const first = await worker();
  const handle = await startBackfill(client, config, config.mappings[0]!, { batch: 20 });
  await waitFor('some chunks done', async () => ((await handle.query(progressQuery).catch(() => undefined))?.rowsDone ?? 0) >= 40, {
    timeoutMs: 120_000,
  });
  first.child.kill('SIGKILL');
  await first.exited;
  const before = (await handle.describe()).status.name;
  expect(before).toBe('RUNNING');

  await worker();
  const progress: BackfillProgress = await handle.result();
  expect(progress.rowsDone).toBe(ROWS);
  expect(progress.state).toBe('done');
  const report = await verifyMapping(db.pool, config, config.mappings[0]!, { batch: 100 });
  expect({ equal: report.equal, differs: report.differs, missing: report.missing }).toEqual({ equal: ROWS, differs: 0, missing: 0 });
}, 400_000);
