// As root in a private folder (a mode-0700 home), the embedded Postgres runs
// as the `postgres` user, who cannot reach node_modules there: its binaries
// must still start. The npm package is copied into a 0700 folder to stand for
// such a checkout.
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { embeddedBinDir, startLocalPostgres } from '../src/local-postgres.js';
import { freePort } from '../src/net.js';

const root = process.getuid?.() === 0;
const home = mkdtempSync(path.join(os.tmpdir(), 'ferry-home-0700-'));

afterAll(() => rmSync(home, { recursive: true, force: true }));

it.skipIf(!root)('as root, binaries inside a 0700 folder start a cluster', async () => {
  const binDir = await embeddedBinDir();
  const install = path.resolve(binDir, '..');
  const privateCopy = path.join(home, 'checkout', 'native');
  mkdirSync(path.dirname(privateCopy), { recursive: true, mode: 0o700 });
  cpSync(install, privateCopy, { recursive: true, verbatimSymlinks: true });

  const cluster = await startLocalPostgres({
    dataDir: mkdtempSync(path.join(os.tmpdir(), 'ferry-0700-data-')),
    port: await freePort(),
    throwaway: true,
    fast: true,
    binDir: path.join(privateCopy, path.basename(binDir)),
  });
  try {
    const client = new pg.Client({ connectionString: cluster.adminUrl });
    await client.connect();
    const { rows } = await client.query('SELECT current_user AS who');
    await client.end();
    expect(rows[0].who).toBe('postgres');
  } finally {
    await cluster.stop();
  }
});
