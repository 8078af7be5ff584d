// /livez and /readyz while Temporal goes away: a liveness probe must not
// restart Ferry during the outages it is built to wait out, and readiness
// says what is down in fixed words. A Temporal server of this file's own,
// stopped and started again on the same port and file.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import { freePort } from '../src/net.js';
import type { HealthReport } from '../src/operate/health.js';
import type { FerryProcess } from '../src/runtime.js';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import { createTestDatabase, startFerry, testConfig, type TestDatabase } from './support/harness.js';
import { namespaceForFile } from './support/names.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-live-ready-'));
const serverOptions = { port: 0, headless: true, dbFilename: path.join(dir, 'temporal.db'), namespaces: [namespaceForFile(FILE)] };

let server: DevServer;
let db: TestDatabase;
let ferry: FerryProcess | undefined;

beforeAll(async () => {
  serverOptions.port = await freePort();
  server = await startDevServer(serverOptions);
  db = await createTestDatabase(FILE);
  const config = testConfig(FILE, db, { mappings: exampleSubset('users_to_accounts') });
  ferry = await startFerry({ ...config, temporal: { ...config.temporal, address: server.address } }, { serve: true });
});

afterAll(async () => {
  await ferry?.stop();
  await db?.drop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function probe(endpoint: 'livez' | 'readyz'): Promise<{ status: number; body: HealthReport }> {
  const res = await fetch(`${ferry!.http!.url}/${endpoint}`);
  return { status: res.status, body: (await res.json()) as HealthReport };
}

describe('/livez and /readyz', () => {
  it('serve on 127.0.0.1', () => {
    expect(new URL(ferry!.http!.url).hostname).toBe('127.0.0.1');
  });

  it('/livez stays 200 and /readyz turns 503 while Temporal is stopped; both 200 once it is back', async () => {
    expect((await probe('livez')).status).toBe(200);
    expect((await probe('readyz')).status).toBe(200);

    await server.stop();
    const down = await waitFor('/readyz 503 naming temporal', async () => {
      const r = await probe('readyz');
      return r.status === 503 && r.body.down.includes('temporal') ? r.body : undefined;
    });
    // Fixed words, not the client's error text (addresses, stack, gRPC codes).
    expect(['not answering', 'no answer within 2s']).toContain(down.checks.temporal!.detail);
    expect(down.checks.postgres).toEqual({ ok: true, detail: 'up' });
    const live = await probe('livez');
    expect(live.status).toBe(200);
    expect(live.body.checks).toEqual({ worker: { ok: true, detail: 'running' }, listener: { ok: true, detail: 'running' } });

    server = await startDevServer(serverOptions);
    await waitFor('/readyz 200 again', async () => (await probe('readyz')).status === 200, { timeoutMs: 60_000 });
    expect((await probe('livez')).status).toBe(200);
  });

  it('/metrics has the gauges `ferry status` alerts on, and the build', async () => {
    await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('gauge@example.com', 'Gauge')`);
    await waitFor('synced', async () => (await db.pool.query(`SELECT 1 FROM ferry.database_trigger_log WHERE status = 'synced'`)).rowCount! > 0);
    const text = await (await fetch(`${ferry!.http!.url}/metrics`)).text();
    expect(text).toMatch(/^ferry_oldest_pending_seconds 0$/m);
    expect(text).toMatch(/^ferry_failed_logs 0$/m);
    expect(text).toMatch(/^ferry_build_info\{version="\d+\.\d+\.\d+[^"]*",node="[\d.]+"\} 1$/m);
  });
});
