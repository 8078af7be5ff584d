// The Temporal dev server killed (kill -9) mid-burst and started again on the
// same port with the same SQLite file: Ferry waits it out, the workflows it
// had survive, and everything committed meanwhile is carried.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, startDevServer, type DevServer } from '../../src/dev-server.js';
import { startServing } from '../support/cli.js';
import { CONVERGED, convergence, TARGET_WRITES_SQL } from '../support/convergence.js';
import { faultConfigFile, MAX_STALL_MS, migrateCli, Processes, runFaultCase } from '../support/fault-case.js';
import { createTestDatabase, type TestDatabase } from '../support/harness.js';
import { namespaceForFile } from '../support/names.js';

const FILE = import.meta.url;
const ROWS = Number(process.env.FERRY_CHAOS_ROWS ?? 2000);
const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-chaos-temporal-'));
const serverOptions = { port: 0, headless: true, dbFilename: path.join(dir, 'temporal.db'), namespaces: [namespaceForFile(FILE)] };

let db: TestDatabase;
let server: DevServer;
let configFile: string;
const procs = new Processes();

beforeAll(async () => {
  db = await createTestDatabase(FILE, TARGET_WRITES_SQL);
  // A server of this file's own, so killing it disturbs no other case.
  serverOptions.port = await freePort();
  server = await startDevServer(serverOptions);
  configFile = faultConfigFile(FILE, db.url, { address: server.address });
  await migrateCli(configFile);
  procs.add(await startServing('start', configFile));
});

afterAll(async () => {
  await procs.killAll();
  await server?.stop();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

it('kill -9 of the Temporal server 2 s into the burst, restarted on the same port and file', async () => {
  const { recovery } = await runFaultCase({
    name: 'Temporal server killed and restarted at 2 s',
    pool: db.pool,
    burst: { url: db.url, rows: ROWS, updateEvery: 10, deleteEvery: 50 },
    faultAfterMs: 2000,
    fault: async () => {
      await server.kill();
      server = await startDevServer(serverOptions);
    },
  });
  expect(await convergence(db.pool)).toMatchObject(CONVERGED);
  expect(recovery.stallMs).toBeLessThan(MAX_STALL_MS);
});
