import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Duration } from '@temporalio/common';
import { createActivities } from '../../activities/index.js';
import { retryUntilDone } from '../reconnect-backoff.js';
import type { FerryConfig } from '../config.js';
import type { Pool } from '../db/index.js';
import { freePort } from '../net.js';
import type { FerryEvents } from '../events.js';
import type { Logger } from '../logger.js';
import { keepPostgresMessagesHome } from './postgres-errors.js';
import { observeActivities } from './sync-outcome-interceptor.js';
import { batchTaskQueue } from '../contract/index.js';
import { dataConverterOf } from '../temporal/codec.js';
import { accessProblem, connectionOptions } from '../temporal/connection.js';

const SELF = fileURLToPath(import.meta.url);
export const WORKFLOWS_PATH = fileURLToPath(new URL(`../../workflows/index${path.extname(SELF)}`, import.meta.url));
/**
 * Built with compiled Ferry (bin/build.mjs → dist/): no bundling at start. From the sources there is none.
 * The second carries the failure converter of the payload codec (workflow code converts its own failures).
 */
const PREBUILT_BUNDLE = fileURLToPath(new URL('../../workflow-bundle.js', import.meta.url));
const PREBUILT_CODEC_BUNDLE = fileURLToPath(new URL('../../workflow-bundle-codec.js', import.meta.url));

export interface WorkerDeps {
  config: FerryConfig;
  pool: Pool;
  logger: Logger;
  /** Where the activity interceptor reports each sync's outcome (logs and metrics listen). */
  events: FerryEvents;
  /**
   * A prebuilt workflow bundle (tests build one for all files); else dist's, else workflows/ is bundled at start.
   * With `temporal.codec`, one bundled with the codec's failure converter (`FAILURE_CONVERTER_PATH`).
   */
  workflowBundle?: { codePath: string };
  /** How long SIGTERM waits for in-flight activities before cancelling them. */
  shutdownGraceTime?: Duration;
  /** A connection shared with this process' client (eager start); the worker does not close it. */
  connection?: NativeConnection;
}

let installed: Promise<string | undefined> | undefined;

/**
 * Installs the Temporal SDK runtime once per process (it is process-wide).
 * With `sdkMetrics`, the SDK's own worker metrics (task slots, poll and
 * schedule-to-start latencies, sticky cache...) are exported in Prometheus
 * format on a loopback port; Ferry's /metrics appends them, so one scrape
 * target has both. Returns that endpoint, when there is one.
 */
export function installRuntime(logger: Logger, opts: { sdkMetrics?: boolean } = {}): Promise<string | undefined> {
  installed ??= (async () => {
    const bindAddress = opts.sdkMetrics ? `127.0.0.1:${await freePort()}` : undefined;
    try {
      // Keep the SDK's own logs at warn: Ferry logs what a sync did.
      Runtime.install({
        logger: new SdkLogger(logger),
        ...(bindAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress } } } } : {}),
      });
      return bindAddress && `http://${bindAddress}/metrics`;
    } catch {
      return undefined; // already installed by the embedding process
    }
  })();
  return installed;
}

/** The worker's kind of connection; waits for Temporal with backoff when it is not up yet. */
export function connectNative(config: FerryConfig, logger: Logger, signal?: AbortSignal): Promise<NativeConnection> {
  return retryUntilDone('connect worker to Temporal', () => NativeConnection.connect(connectionOptions(config)), {
    signal,
    giveUp: (err) => accessProblem(err, config),
    onError: (err, attempt, delayMs) => logger.warn({ err: (err as Error).message, attempt, delayMs }, 'worker: Temporal unreachable, retrying'),
  });
}

/**
 * Creates the Temporal worker for Ferry's task queue. Waits for Temporal with
 * backoff when it is not up yet.
 */
export async function createWorker(deps: WorkerDeps, signal?: AbortSignal): Promise<{ worker: FerryWorker; connection: NativeConnection }> {
  const { config, logger } = deps;
  await installRuntime(logger);
  const connection = deps.connection ?? (await connectNative(config, logger, signal));
  const activities = createActivities({ pool: deps.pool, config });
  const common = {
    connection,
    namespace: config.temporal.namespace,
    activities,
    dataConverter: dataConverterOf(config),
    // Local activities go through activity interceptors too: one place sees every sync's outcome.
    // The first is outermost: observeActivities logs a Postgres message before it is replaced.
    interceptors: { activity: [keepPostgresMessagesHome(), observeActivities({ events: deps.events })] },
    shutdownGraceTime: deps.shutdownGraceTime ?? '10s',
  } satisfies Partial<WorkerOptions>;
  try {
    const main = await Worker.create({
      ...common,
      taskQueue: config.temporal.taskQueue,
      ...workflowCode(deps.workflowBundle, config.temporal.codec !== undefined),
      // Each sync is one local activity holding one pooled connection.
      maxConcurrentLocalActivityExecutions: config.database.poolSize,
      // The sticky cache holds each cached workflow's isolate state: the bulk of the worker's memory.
      maxCachedWorkflows: config.worker.maxCachedWorkflows,
    });
    // The batch lane: activities only (no workflow bundle), a few slots, so a
    // burst's chunks never take the connections and slots of single syncs.
    const batch = await Worker.create({
      ...common,
      taskQueue: batchTaskQueue(config.temporal.taskQueue),
      maxConcurrentActivityTaskExecutions: config.worker.batchSlots,
    });
    return { worker: new FerryWorker(main, batch), connection };
  } catch (err) {
    if (!deps.connection) await connection.close();
    throw err;
  }
}

/** Ferry's two lanes, run and stopped together: workflows and single syncs, and batch chunks. */
export class FerryWorker {
  constructor(
    readonly main: Worker,
    readonly batch: Worker,
  ) {}

  async run(): Promise<void> {
    const runs = [this.main.run(), this.batch.run()];
    try {
      await Promise.all(runs);
    } catch (err) {
      this.shutdown();
      await Promise.allSettled(runs);
      throw err;
    }
  }

  getState(): ReturnType<Worker['getState']> {
    const batch = this.batch.getState();
    return batch === 'FAILED' ? batch : this.main.getState();
  }

  shutdown(): void {
    for (const w of [this.main, this.batch]) if (w.getState() === 'RUNNING') w.shutdown();
  }
}

/** Adapts pino to the SDK's logger interface. */
class SdkLogger {
  constructor(private readonly logger: Logger) {}
  log(level: string, message: string, meta?: Record<string, unknown>) {
    const l = level.toLowerCase();
    // The batch lane's worker runs activities only, by design: its start-up notice is not a warning.
    const expected = message.startsWith('No workflows registered');
    const fn = l === 'error' ? 'error' : l === 'warn' && !expected ? 'warn' : l === 'info' || expected ? 'debug' : 'trace';
    this.logger[fn]({ sdk: true, ...meta }, message);
  }
  trace(m: string, meta?: Record<string, unknown>) {
    this.log('trace', m, meta);
  }
  debug(m: string, meta?: Record<string, unknown>) {
    this.log('debug', m, meta);
  }
  info(m: string, meta?: Record<string, unknown>) {
    this.log('info', m, meta);
  }
  warn(m: string, meta?: Record<string, unknown>) {
    this.log('warn', m, meta);
  }
  error(m: string, meta?: Record<string, unknown>) {
    this.log('error', m, meta);
  }
}

/**
 * The workflow code: the bundle handed in, else FERRY_WORKFLOW_BUNDLE (a
 * prebuilt bundle: the tests' CLI children use the run's, so they start at
 * once), else dist's prebuilt one, else bundled from source at start.
 */
function workflowCode(given: WorkerDeps['workflowBundle'], codec: boolean): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (given) return { workflowBundle: given };
  if (process.env.FERRY_WORKFLOW_BUNDLE) return { workflowBundle: { codePath: process.env.FERRY_WORKFLOW_BUNDLE } };
  const prebuilt = codec ? PREBUILT_CODEC_BUNDLE : PREBUILT_BUNDLE;
  if (SELF.endsWith('.js') && existsSync(prebuilt)) return { workflowBundle: { codePath: prebuilt } };
  // Bundled here, the failure converter comes from dataConverter.failureConverterPath.
  return { workflowsPath: WORKFLOWS_PATH };
}
