import { expect, inject } from 'vitest';
import type { Pool } from '../../src/db/index.js';
import { startBurst, type Burst, type BurstOptions, type BurstResult } from './burst.js';
import { killHard, runCli, startServing, writeCliConfig, type ServeCommand, type ServingCli } from './cli.js';
import { CONVERGED, convergence, TARGET_WRITES_SQL, USERS_SOURCE } from './convergence.js';
import { createTestDatabase, type TestDatabase } from './harness.js';
import { fileSlug, namespaceForFile } from './names.js';
import { recoveryAfter, report, type Recovery } from './recovery.js';
import { waitFor } from './wait.js';

/** How long a case may take to carry everything after its fault (longer than redispatchAfter's 5 minutes, so a stuck claim shows as a stall, not a timeout). */
export const DRAIN_TIMEOUT_MS = Number(process.env.FERRY_CHAOS_DRAIN_TIMEOUT_MS ?? 8 * 60_000);
/** The longest stall a fault may cause: seconds, not minutes. */
export const MAX_STALL_MS = Number(process.env.FERRY_CHAOS_MAX_STALL_MS ?? 30_000);

/**
 * A config file for `ferry` children of this test file: its database, its
 * namespace on the run's Temporal server, the users mapping, Ferry's
 * defaults for everything else (sweep every 5 s, redispatch after 5 min),
 * metrics on a free port each.
 */
export function faultConfigFile(
  testFile: string,
  dbUrl: string,
  temporal: { address?: string; taskQueue?: string; namespace?: string } = {},
  tag = '',
): string {
  return writeCliConfig(
    `${fileSlug(testFile)}${tag}.config.ts`,
    {
      database: { url: dbUrl, poolSize: 8 },
      temporal: {
        address: temporal.address ?? inject('temporalAddress'),
        namespace: temporal.namespace ?? namespaceForFile(testFile),
        taskQueue: temporal.taskQueue ?? `ferry-${fileSlug(testFile)}${tag}`,
      },
      metrics: { port: 0, host: '127.0.0.1' },
    },
    USERS_SOURCE,
  );
}

/** `ferry migrate` on the config, as an operator runs it. */
export async function migrateCli(configFile: string): Promise<void> {
  const { code, stderr } = await runCli(['migrate', '--config', configFile]);
  if (code !== 0) throw new Error(`ferry migrate exited ${code}: ${stderr}`);
}

/** kill -9 of a running `ferry` child, and the same command started again at once (as a supervisor would). */
export async function killAndRestart(run: ServingCli, configFile: string): Promise<ServingCli> {
  await killHard(run);
  return startServing(run.command, configFile);
}

/** Processes a case started, so afterAll can kill what a failing case left. */
export class Processes {
  private readonly all = new Set<ServingCli>();
  add(run: ServingCli): ServingCli {
    this.all.add(run);
    return run;
  }
  async killAll(): Promise<void> {
    await Promise.all([...this.all].map(killHard));
    this.all.clear();
  }
}

export interface FaultDeployment {
  db: TestDatabase;
  configFile: string;
  /** `ferry start|listen|worker` on this deployment, healthy; killed by close(). */
  serve(command: ServeCommand): Promise<ServingCli>;
  procs: Processes;
  /** Kills every process it started and drops the database. */
  close(): Promise<void>;
}

/**
 * One Ferry deployment for a fault test: a fresh database (the example's
 * schema and the target-write counter), its config file, `ferry migrate`.
 */
export async function faultDeployment(
  testFile: string,
  opts: { suffix?: string; adminUrl?: string; temporal?: { address?: string; taskQueue?: string; namespace?: string } } = {},
): Promise<FaultDeployment> {
  const db = await createTestDatabase(testFile, TARGET_WRITES_SQL, { suffix: opts.suffix, adminUrl: opts.adminUrl });
  const configFile = faultConfigFile(testFile, db.url, opts.temporal, opts.suffix ? `-${opts.suffix}` : '');
  await migrateCli(configFile);
  const procs = new Processes();
  return {
    db,
    configFile,
    procs,
    serve: async (command) => procs.add(await startServing(command, configFile)),
    async close() {
      await procs.killAll();
      await db.drop();
    },
  };
}

/** What every case asserts at its end: converged (see convergence()), and, after a fault, no long stall. */
export async function expectRecovered(pool: Pool, recovery?: Recovery): Promise<void> {
  expect(await convergence(pool)).toMatchObject(CONVERGED);
  if (recovery) expect(recovery.stallMs).toBeLessThan(MAX_STALL_MS);
}

/** Polls until no log is pending; the burst has committed all it will by then. */
export function waitAllFinal(pool: Pool, timeoutMs = DRAIN_TIMEOUT_MS): Promise<true> {
  return waitFor(
    'every log final',
    async () => {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ferry.database_trigger_log WHERE status = 'pending'`);
      return rows[0].n === 0;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

export interface FaultCase {
  name: string;
  pool: Pool;
  burst: Omit<BurstOptions, 'tag'>;
  /** When the fault strikes, from the burst's start. */
  faultAfterMs: number;
  /**
   * Strikes the fault and repairs it (a restart); resolves once the broken
   * part is back (its time is reported as backMs). A fault that lasts as
   * long as the burst waits for `burst.done`.
   */
  fault: (burst: Burst) => Promise<void>;
  drainTimeoutMs?: number;
}

/**
 * A burst of writes, a fault `faultAfterMs` into it, then waits until every
 * log is final and reports how Ferry recovered (printed, and added to the
 * chaos run's table).
 */
export async function runFaultCase(c: FaultCase): Promise<{ recovery: Recovery; burst: BurstResult }> {
  const burst = startBurst({ ...c.burst, tag: `${fileSlug(c.name)}-` });
  // The fault is scheduled by the clock (that is what "2 s into the burst" means), not a wait for a state.
  await new Promise((r) => setTimeout(r, Math.max(0, burst.startedAt + c.faultAfterMs - Date.now())));
  const faultAt = Date.now();
  await c.fault(burst);
  const backMs = Date.now() - faultAt;
  const written = await burst.done;
  await waitAllFinal(c.pool, c.drainTimeoutMs);
  const recovery = await recoveryAfter(c.pool, c.name, faultAt, faultAt + backMs);
  report({ ...recovery, backMs, rowsWritten: written.inserted, burstMs: written.ms });
  return { recovery, burst: written };
}

/**
 * NOTIFY lost: terminates the listener's connection (application_name
 * 'ferry-listener') every `everyMs` until `until` settles, so the
 * notifications of rows committed meanwhile go nowhere. Returns how many
 * connections it killed.
 */
export async function terminateListenerUntil(pool: Pool, until: Promise<unknown>, everyMs = 300): Promise<number> {
  let done = false;
  void until.finally(() => (done = true));
  let killed = 0;
  while (!done) {
    const { rows } = await pool.query(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'ferry-listener'`,
    );
    killed += rows.filter((r) => r.ok).length;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return killed;
}
