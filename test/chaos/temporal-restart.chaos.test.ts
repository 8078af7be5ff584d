// The Temporal dev server killed (kill -9) mid-burst and started again on the
// same port with the same SQLite file: Ferry waits it out, the workflows it
// had survive, and everything committed meanwhile is carried.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, it } from 'vitest';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { freePort } from '../../src/net.js';
import { expectRecovered, faultDeployment, runFaultCase, type FaultDeployment } from '../support/fault-case.js';
import { namespaceForFile } from '../support/names.js';

const FILE = import.meta.url;
const ROWS = Number(process.env.FERRY_CHAOS_ROWS ?? 2000);
const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-chaos-temporal-'));
const serverOptions = { port: 0, headless: true, dbFilename: path.join(dir, 'temporal.db'), namespaces: [namespaceForFile(FILE)] };

let server: DevServer;
let d: FaultDeployment;

beforeAll(async () => {
  // A server of this file's own, so killing it disturbs no other case.
  serverOptions.port = await freePort();
  server = await startDevServer(serverOptions);
  d = await faultDeployment(FILE, { temporal: { address: server.address } });
  await d.serve('start');
});

afterAll(async () => {
  await d?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('kill -9 of the Temporal server 2 s into the burst, restarted on the same port and file', async () => {
  const { recovery } = await runFaultCase({
    name: 'Temporal server killed and restarted at 2 s',
    pool: d.db.pool,
    burst: { url: d.db.url, rows: ROWS, updateEvery: 10, deleteEvery: 50 },
    faultAfterMs: 2000,
    fault: async () => {
      await server.kill();
      server = await startDevServer(serverOptions);
    },
  });
  await expectRecovered(d.db.pool, recovery);
});
