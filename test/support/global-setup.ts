import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { freePort } from '../../src/net.js';
import { TemporalCliMissing } from '../../src/temporal/cli-lookup.js';
import { WORKFLOWS_PATH } from '../../src/worker/worker.js';
import { testPostgres } from './postgres.js';
import { replicationRefused, walProblems } from '../../src/capture/wal/wal-migrate.js';
import { namespaceForFile } from './names.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    workflowBundlePath: string;
    /** The Postgres the tests create their databases in (see test/support/postgres.ts). */
    adminUrl: string;
    /** Tells this run's databases from another run's on the same Postgres. */
    runId: string;
    /** The run's Postgres can run WAL capture (wal_level = logical, replication connections allowed): the WAL variants run. */
    walCapture: boolean;
    /** `npm run chaos`: the file each case appends its figures to (see recovery.ts). */
    chaosReport?: string;
  }
}

/**
 * Starts the run's Temporal dev server (a namespace per test file), picks the
 * run's Postgres (an embedded one when none is given or answers), and bundles
 * the workflows once.
 */
export default async function setup(project: TestProject) {
  const testDir = path.resolve('test');
  // test/ and its folders (test/chaos): every file gets its namespace, one per lane.
  const files = readdirSync(testDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.test.ts'));
  const namespaces = files.flatMap((f) => [namespaceForFile(f), namespaceForFile(f, 'batch')]);
  const server = await startServer(namespaces).catch((err: unknown) => {
    if (!(err instanceof TemporalCliMissing)) throw err;
    // What to do, alone: no stack trace, no DNS error, no "No test files found".
    console.error(err.message);
    process.exit(1);
  });
  const postgres = await testPostgres().catch(async (err: unknown) => {
    await server.stop();
    throw err;
  });
  // WAL variants on a given Postgres only when asked (FERRY_TEST_CAPTURE=wal): on the system
  // Postgres 15 here, a test's stream failed with 'publication ... does not exist' (CHANGELOG, known issues).
  const own = postgres.description.startsWith('embedded');
  const walRefused =
    own || process.env.FERRY_TEST_CAPTURE === 'wal'
      ? await walCaptureRefused(postgres.adminUrl)
      : 'a given Postgres (FERRY_TEST_CAPTURE=wal runs them)';
  console.log(`ferry tests: ${postgres.description}; WAL capture ${walRefused ? `variants skipped: ${walRefused}` : 'variants on'}`);

  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
  const dir = path.join(os.tmpdir(), `ferry-test-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);

  project.provide('temporalAddress', server.address);
  project.provide('temporalUiUrl', server.uiUrl!);
  project.provide('workflowBundlePath', bundlePath);
  project.provide('runId', process.pid.toString(36));
  project.provide('adminUrl', postgres.adminUrl);
  project.provide('walCapture', !walRefused);
  return async () => {
    await server.stop();
    await postgres.stop();
  };
}

const noop = () => {};
const quietBundlerLogger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };

/**
 * The dev server on ports that were free a moment ago; another process can
 * take one in between (a port race), so a start that fails is tried again on
 * fresh ports, up to three times.
 */
async function startServer(namespaces: string[]): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServer({ ip: '127.0.0.1', port: await freePort(), uiPort: await freePort(), namespaces });
    } catch (err) {
      if (err instanceof TemporalCliMissing || attempt >= 3) throw err;
      console.error(`ferry tests: the Temporal dev server did not start (attempt ${attempt}), trying fresh ports: ${(err as Error).message}`);
    }
  }
}

/** Why the run's Postgres cannot run WAL capture (a given one may not: wal_level, pg_hba.conf), or undefined. */
async function walCaptureRefused(adminUrl: string): Promise<string | undefined> {
  const pool = new pg.Pool({ connectionString: adminUrl, max: 1 });
  try {
    const problems = await walProblems(pool);
    return problems[0] ?? (await replicationRefused(adminUrl));
  } finally {
    await pool.end();
  }
}
