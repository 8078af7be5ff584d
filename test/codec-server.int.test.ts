// `ferry codec-server` as an operator runs it (a child process): Temporal's
// codec protocol, CORS for the Web UI's origin only, exit 2 on a bad key.
// Then a real browser (Debian's chromium, through playwright-core) on a Temporal
// dev server whose Web UI asks that codec server: a sync's result, sealed in the
// history, shows opened on the workflow's page.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, METADATA_ENCODING_KEY } from '@temporalio/common';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import { syncLogWorkflowId } from '../src/contract/index.js';
import { freePort } from '../src/net.js';
import type { FerryProcess } from '../src/runtime.js';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import { ENCRYPTED_ENCODING } from '../src/temporal/codec.js';
import { jsonLines, runCli, spawnCli, writeCliConfig, type CliRun } from './support/cli.js';
import { CODEC_KEY_ID, codecKeyFile, codecTemporal } from './support/codec.js';
import { createTestDatabase, startFerry, testConfig, type TestDatabase } from './support/harness.js';
import { namespaceForFile } from './support/names.js';
import { failWithScreenshot, launchChromium, runsChromium, screenshot } from './support/browser.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;

const keyFile = codecKeyFile();
const codecBlock = (file: string) => ({ keys: { [CODEC_KEY_ID]: { file } }, currentKeyId: CODEC_KEY_ID });
// The codec server reads only temporal.codec: the database is never reached.
const cliConfig = (name: string, codec: unknown) => writeCliConfig(name, { database: { url: 'postgres://127.0.0.1:1/unused' }, temporal: { codec } });

let uiPort: number;
let uiOrigin: string;
let server: CliRun | undefined;
let codecUrl: string;

beforeAll(async () => {
  uiPort = await freePort();
  uiOrigin = `http://127.0.0.1:${uiPort}`;
  server = spawnCli(['codec-server', '--config', cliConfig('codec.config.ts', codecBlock(keyFile)), '--port', '0', '--ui-origin', uiOrigin]);
  codecUrl = await waitFor(
    'codec server listening',
    () => {
      if (server!.child.exitCode !== null) throw new Error(`ferry codec-server exited ${server!.child.exitCode}: ${server!.stderr()}`);
      return jsonLines(server!.stdout()).find((l) => typeof l.url === 'string' && l.keyIds)?.url as string | undefined;
    },
    { timeoutMs: 60_000 },
  );
});

afterAll(async () => {
  server?.child.kill('SIGTERM');
  expect(await server?.exited).toBe(0);
});

const post = (op: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${codecUrl}/${op}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

const asJson = (payload: ReturnType<typeof defaultPayloadConverter.toPayload>) => ({
  metadata: Object.fromEntries(Object.entries(payload!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(payload!.data!).toString('base64'),
});
const metadataText = (p: { metadata: Record<string, string> }, key: string) => Buffer.from(p.metadata[key]!, 'base64').toString();

describe('ferry codec-server', () => {
  it('seals on /encode and opens on /decode, as protobuf JSON (base64 metadata and data)', async () => {
    const plain = asJson(defaultPayloadConverter.toPayload({ logId: 7, note: 'MARKER' }));
    const encoded = await post('encode', { payloads: [plain] });
    expect(encoded.status).toBe(200);
    const { payloads: sealed } = (await encoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(metadataText(sealed[0]!, METADATA_ENCODING_KEY)).toBe(ENCRYPTED_ENCODING);
    expect(metadataText(sealed[0]!, 'encryption-key-id')).toBe(CODEC_KEY_ID);
    expect(Buffer.from(sealed[0]!.data, 'base64').toString()).not.toContain('MARKER');
    // Mounted anywhere: the protocol routes on the last part of the path.
    const decoded = await fetch(`${codecUrl}/some/prefix/decode`, { method: 'POST', body: JSON.stringify({ payloads: sealed }) });
    expect(decoded.status).toBe(200);
    expect(((await decoded.json()) as { payloads: unknown[] }).payloads).toEqual([plain]);
  });

  it("answers the Web UI's preflight and calls from its origin, with CORS headers naming it", async () => {
    const preflight = await fetch(`${codecUrl}/decode`, {
      method: 'OPTIONS',
      headers: { origin: uiOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-namespace');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    const call = await post('decode', { payloads: [] }, { origin: uiOrigin, 'x-namespace': 'default' });
    expect(call.status).toBe(200);
    expect(call.headers.get('access-control-allow-origin')).toBe(uiOrigin);
  });

  it('refuses a page of any other origin, and says what is wrong with a bad body', async () => {
    const foreign = await post('decode', { payloads: [] }, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${codecUrl}/decode`, { method: 'OPTIONS', headers: { origin: 'http://evil.example' } });
    expect(preflight.status).toBe(403);
    const bad = await post('decode', { payload: [] });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('expected { "payloads": [...] }');
    const get = await fetch(`${codecUrl}/decode`);
    expect(get.status).toBe(404);
  });

  it('a payload sealed with a key it does not hold fails naming the key id', async () => {
    const other = {
      metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING).toString('base64'), 'encryption-key-id': Buffer.from('gone').toString('base64') },
      data: 'AAAA',
    };
    const res = await post('decode', { payloads: [other] });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('key id "gone"');
  });

  it('exits 2 naming the key when a key cannot be used, and when the config has no codec', async () => {
    const short = path.join(os.tmpdir(), `ferry-codec-short-${process.pid}.key`);
    writeFileSync(short, 'c2hvcnQ=\n');
    const bad = await runCli(['codec-server', '--config', cliConfig('bad-key.config.ts', codecBlock(short)), '--port', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`temporal.codec.keys.${CODEC_KEY_ID}: ${short} does not hold a 256-bit key`);
    const none = await runCli([
      'codec-server',
      '--config',
      writeCliConfig('no-codec.config.ts', { database: { url: 'postgres://127.0.0.1:1/x' } }),
      '--port',
      '0',
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('temporal.codec: not set');
  });
});

describe.skipIf(!runsChromium())('the Web UI through ferry codec-server', () => {
  let temporal: DevServer | undefined;
  let db: TestDatabase | undefined;
  let ferry: FerryProcess | undefined;
  let browser: Browser | undefined;
  let instance: string;
  const namespace = namespaceForFile(FILE);

  beforeAll(async () => {
    // Its own dev server: the run's Web UI must not depend on this file's codec server.
    temporal = await startDevServer({ port: await freePort(), uiPort, namespaces: [namespace], uiCodecEndpoint: codecUrl });
    db = await createTestDatabase(FILE);
    const config = testConfig(FILE, db, {
      temporal: codecTemporal(FILE, keyFile, { address: temporal.address }),
      mappings: exampleSubset('users_to_accounts'),
    });
    instance = config.instance;
    ferry = await startFerry(config);
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await ferry?.stop();
    await db?.drop();
    await temporal?.stop();
  });

  it("shows a sync's result, sealed in its history, opened on the workflow's page", async () => {
    const user = (await db!.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('c@example.com', 'Cy') RETURNING id`)).rows[0];
    const log = await waitFor(
      'user synced',
      async () =>
        (
          await db!.pool.query(
            `SELECT id, workflow_id FROM ferry.database_trigger_log WHERE mapping = 'users_to_accounts' AND row_key = $1 AND status = 'synced'`,
            [String(user.id)],
          )
        ).rows[0],
    );
    const workflowId = syncLogWorkflowId(instance, log.id);
    expect(log.workflow_id).toBe(workflowId);
    await ferry!.client!.workflow.getHandle(workflowId).result();
    // The history holds the result sealed: only the codec server can show "upserted".
    const history = await ferry!.client!.workflow.getHandle(workflowId).fetchHistory();
    const completed = history.events!.find((e) => e.workflowExecutionCompletedEventAttributes)!.workflowExecutionCompletedEventAttributes!;
    const result = completed.result!.payloads![0]!;
    expect(Buffer.from(result.metadata![METADATA_ENCODING_KEY]!).toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(result.data!).toString()).not.toContain('upserted');

    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      await waitFor(
        'the result shown opened',
        async () => {
          await page.goto(`${temporal!.uiUrl}/namespaces/${namespace}/workflows/${workflowId}`, { waitUntil: 'domcontentloaded' });
          await page.waitForFunction(() => document.body.innerText.includes('upserted'), undefined, { timeout: 15_000 });
          return true;
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      ).catch(failWithScreenshot(page, 'web-ui-codec-not-opened'));
      await screenshot(page, 'web-ui-codec-opened');
      expect(await page.evaluate(() => document.body.innerText)).not.toContain(ENCRYPTED_ENCODING);
    } finally {
      await page.close();
    }
  }, 240_000);
});
