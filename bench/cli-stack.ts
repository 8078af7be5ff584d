// What the benches of the compiled CLI (bench:cli, bench:rss) run against:
// dist/ built, a Postgres, a Temporal dev server, a database of their own,
// and a `.ts` config on the example's mappings, as a user's would be.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/net.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { testPostgres } from '../test/support/postgres.js';
import { createBenchDatabase, type BenchDatabase } from './setup.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const FERRY = path.join(ROOT, 'bin', 'ferry.mjs');

export interface CliStack {
  db: BenchDatabase;
  /** The config file's path. */
  config: string;
  /** Where the Postgres came from, for the report. */
  postgres: string;
  close(): Promise<void>;
}

/** `name` names the database, the task queue and the temp dir; `settings` go into the config as they are. */
export async function startCliStack(name: string, settings: Record<string, unknown> = {}): Promise<CliStack> {
  const build = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'build.mjs')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('bin/build.mjs failed');
  const postgres = await testPostgres();
  const server = await startDevServer({ ip: '127.0.0.1', port: await freePort(), headless: true });
  const db = await createBenchDatabase(postgres.adminUrl, `ferry_bench_${name}_${process.pid}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), `ferry-bench-${name}-`));
  const config = path.join(dir, 'ferry.config.ts');
  const all = {
    database: { url: db.url },
    temporal: { address: server.address, namespace: 'default', taskQueue: `ferry-bench-${name}` },
    ...settings,
  };
  writeFileSync(
    config,
    `import { exampleMappings } from ${JSON.stringify(path.join(ROOT, 'example', 'mappings.ts'))};\n` +
      `export default { ...${JSON.stringify(all)}, mappings: exampleMappings };\n`,
  );
  return {
    db,
    config,
    postgres: postgres.description,
    async close() {
      await db.drop();
      await server.stop();
      await postgres.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
