import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { inject } from 'vitest';
import { parseConfig, type FerryConfig, type FerryConfigInput } from '../../src/config.js';
import { createPool, type Pool } from '../../src/db/index.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { migrate } from '../../src/capture/migrate.js';
import { runFerry, type FerryProcess } from '../../src/runtime.js';
import { codecWorkflowBundle } from './codec.js';
import { fileSlug, namespaceForFile } from './names.js';
import { waitFor } from './wait.js';

const ADMIN_URL = inject('adminUrl');
export const EXAMPLE_SCHEMA = readFileSync(fileURLToPath(new URL('../../example/schema.sql', import.meta.url)), 'utf8');

export interface TestDatabase {
  url: string;
  pool: Pool;
  /** How the config of this database captures changes (testConfig applies it). */
  mode: CaptureMode;
  drop(): Promise<void>;
}

/**
 * How changes reach the log: triggers, or WAL capture from a replication slot.
 * A scenario both must carry runs on both (describe.each(CAPTURE_MODES)):
 * createTestDatabase takes the mode, testConfig applies it.
 * FERRY_TEST_CAPTURE=wal runs every suite in WAL mode.
 */
export type CaptureMode = 'trigger' | 'wal';
/** WAL variants run where the run's Postgres can (the embedded one always; global-setup.ts says why not). */
export const CAPTURE_MODES: CaptureMode[] = inject('walCapture') ? ['trigger', 'wal'] : ['trigger'];

/**
 * WAL mode: waits until the running capture has read the slot up to now, so
 * every change committed before the call is in the log (as it is at commit
 * in trigger mode). Returns at once in trigger mode or while no capture runs.
 */
export async function captured(pool: Pool): Promise<void> {
  const { rows } = await pool.query<{ now: string }>(
    `SELECT pg_current_wal_insert_lsn()::text AS now FROM pg_replication_slots WHERE database = current_database() AND active LIMIT 1`,
  );
  if (!rows[0]) return;
  await waitFor(
    'the WAL capture caught up',
    async () =>
      (
        await pool.query(`SELECT 1 FROM pg_replication_slots WHERE database = current_database() AND (confirmed_flush_lsn >= $1 OR NOT active)`, [
          rows[0]!.now,
        ])
      ).rowCount! > 0,
  );
}

/**
/**
 * How a scenario's logs are carried: one syncLog each, or in syncBatch
 * workflows (batchThreshold 0: every claimable log counts as a backlog).
 * Scenarios run on both with describe.each(LANES).
 */
export type Lane = 'single' | 'batch';
export const LANES: Lane[] = ['single', 'batch'];

/** Every lane in every capture mode: describe.each(VARIANTS)('$lane lane, $mode capture', ({ lane, mode }) => ...). */
export const VARIANTS: { lane: Lane; mode: CaptureMode }[] = CAPTURE_MODES.flatMap((mode) => LANES.map((lane) => ({ lane, mode })));

/**
 * A fresh database for one test file (and lane) of this run, with the
 * example's schema. `suffix` tells a file's second database from its first;
 * `adminUrl` puts it on another Postgres (a private cluster the test starts).
 */
export async function createTestDatabase(
  testFile: string,
  extraSql = '',
  opts: { suffix?: string; adminUrl?: string; lane?: Lane; mode?: CaptureMode } = {},
): Promise<TestDatabase> {
  const adminUrl = opts.adminUrl ?? ADMIN_URL;
  const mode = opts.mode ?? (process.env.FERRY_TEST_CAPTURE === 'wal' ? 'wal' : 'trigger');
  const suffix = [opts.lane === 'batch' ? 'b' : '', opts.mode === 'wal' ? 'w' : '', opts.suffix ?? ''].filter(Boolean).join('_');
  const name = `ferry_t_${fileSlug(testFile)}${suffix ? `_${suffix}` : ''}_${inject('runId')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), 5, 'ferry-test');
  await pool.query(EXAMPLE_SCHEMA + '\n' + extraSql);
  return {
    url: url.toString(),
    pool,
    mode,
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      // A database with a replication slot cannot be dropped; slots are the cluster's.
      await c.query(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL`, [name]);
      await waitFor(
        'its slots inactive',
        async () => (await c.query(`SELECT 1 FROM pg_replication_slots WHERE database = $1 AND active`, [name])).rowCount === 0 || undefined,
      );
      await c.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1`, [name]);
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * FERRY_TEST_CAPTURE=notify|poll runs a suite in that capture mode
 * (docs/capture.md); unset, the config's default applies.
 */
function captureMode(db: TestDatabase): NonNullable<FerryConfigInput['capture']> {
  const mode = process.env.FERRY_TEST_CAPTURE;
  const capture = db.mode === 'wal' ? { mode: 'wal' as const, heartbeatInterval: 500 } : {};
  if (mode === undefined || mode === '' || mode === 'wal') return capture;
  if (mode !== 'notify' && mode !== 'poll') throw new Error(`FERRY_TEST_CAPTURE must be "notify", "poll" or "wal", not "${mode}"`);
  return { ...capture, notify: mode === 'notify' };
}

/** A validated config for this test file: its database, the run's Temporal server, its own namespace (per lane). */
export function testConfig(
  testFile: string,
  db: TestDatabase,
  overrides: Partial<FerryConfigInput> & Pick<FerryConfigInput, 'mappings'>,
  lane: Lane = 'single',
): FerryConfig {
  return parseConfig(
    {
      database: { url: db.url, poolSize: 8 },
      temporal: { address: inject('temporalAddress'), namespace: namespaceForFile(testFile, lane), taskQueue: 'ferry-test' },
      listener: { sweepInterval: '1s', redispatchAfter: '1m', batchSize: 500, batchThreshold: lane === 'batch' ? 0 : 100 },
      ...overrides,
      capture: { ...captureMode(db), ...overrides.capture },
    },
    {},
  );
}

/**
 * Migrates and starts listener + worker in this process, as `ferry start` does.
 * `serve`: also /metrics and /healthz on a free loopback port (proc.http.url).
 */
export async function startFerry(
  config: FerryConfig,
  parts: { listen?: boolean; work?: boolean; serve?: boolean; migrate?: boolean } = {},
): Promise<FerryProcess> {
  if (parts.migrate ?? true) {
    const pool = createPool(config.database.url, 1);
    try {
      await migrate(pool, config);
    } finally {
      await pool.end();
    }
  }
  const proc = await runFerry({
    config,
    logger: process.env.FERRY_TEST_LOG ? createLogger(process.env.FERRY_TEST_LOG) : silentLogger,
    listen: parts.listen ?? true,
    work: parts.work ?? true,
    workflowBundle: config.temporal.codec ? await codecWorkflowBundle() : { codePath: inject('workflowBundlePath') },
    shutdownGraceTime: '5s',
    ...(parts.serve ? { http: { port: 0, host: '127.0.0.1' } } : {}),
  });
  await proc.workerReady;
  if (proc.walCapture) await waitFor('WAL capture streaming (or its slot lost)', () => ['streaming', 'lost'].includes(proc.walCapture!.state));
  return proc;
}

export interface LogStatusRow {
  id: number;
  mapping: string;
  op: string;
  row_key: string;
  status: string;
  error: string | null;
  attempts: number;
  superseded_by: number | null;
}

/** The log (in WAL mode, once capture caught up with every commit so far). */
export async function logs(pool: Pool, mapping?: string): Promise<LogStatusRow[]> {
  await captured(pool);
  const { rows } = await pool.query<LogStatusRow>(
    `SELECT id, mapping, op, row_key, status, error, attempts, superseded_by FROM ferry.database_trigger_log
      WHERE $1::text IS NULL OR mapping = $1 ORDER BY id`,
    [mapping ?? null],
  );
  return rows;
}

/** Waits until no log is pending any more (in WAL mode, once capture caught up); returns all logs. */
export async function waitForSettled(pool: Pool, timeoutMs = 60_000): Promise<LogStatusRow[]> {
  await captured(pool);
  return waitFor(
    'every log settled',
    async () => {
      const rows = await logs(pool);
      return rows.every((r) => r.status !== 'pending') ? rows : undefined;
    },
    { timeoutMs },
  );
}
