import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Duration } from '@temporalio/common';
import { createActivities } from '../activities/index.js';
import { retryUntilDone } from './backoff.js';
import type { FerryConfig } from './config.js';
import type { Pool } from './db.js';
import type { Logger } from './logger.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface WorkerDeps {
  config: FerryConfig;
  pool: Pool;
  logger: Logger;
  /** A prebuilt workflow bundle (tests build one for all files); else workflows/ is bundled at start. */
  workflowBundle?: { codePath: string };
  /** How long SIGTERM waits for in-flight activities before cancelling them. */
  shutdownGraceTime?: Duration;
}

let runtimeInstalled = false;

/**
 * Creates the Temporal worker for Ferry's task queue. Waits for Temporal with
 * backoff when it is not up yet.
 */
export async function createWorker(deps: WorkerDeps, signal?: AbortSignal): Promise<{ worker: Worker; connection: NativeConnection }> {
  const { config, logger } = deps;
  if (!runtimeInstalled) {
    runtimeInstalled = true;
    // Keep the SDK's own logs at warn: Ferry logs what a sync did.
    try {
      Runtime.install({ logger: new SdkLogger(logger) });
    } catch {
      /* already installed by the embedding process */
    }
  }
  const connection = await retryUntilDone('connect worker to Temporal', () => NativeConnection.connect({ address: config.temporal.address }), {
    signal,
    onError: (err, attempt, delayMs) => logger.warn({ err: (err as Error).message, attempt, delayMs }, 'worker: Temporal unreachable, retrying'),
  });
  const options: WorkerOptions = {
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities({ pool: deps.pool, config }),
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    // Each sync is one local activity holding one pooled connection.
    maxConcurrentLocalActivityExecutions: config.database.poolSize,
    shutdownGraceTime: deps.shutdownGraceTime ?? '10s',
  };
  try {
    return { worker: await Worker.create(options), connection };
  } catch (err) {
    await connection.close();
    throw err;
  }
}

/** Adapts pino to the SDK's logger interface. */
class SdkLogger {
  constructor(private readonly logger: Logger) {}
  log(level: string, message: string, meta?: Record<string, unknown>) {
    const l = level.toLowerCase();
    const fn = l === 'error' ? 'error' : l === 'warn' ? 'warn' : l === 'info' ? 'debug' : 'trace';
    this.logger[fn]({ sdk: true, ...meta }, message);
  }
  trace(m: string, meta?: Record<string, unknown>) { this.log('trace', m, meta); }
  debug(m: string, meta?: Record<string, unknown>) { this.log('debug', m, meta); }
  info(m: string, meta?: Record<string, unknown>) { this.log('info', m, meta); }
  warn(m: string, meta?: Record<string, unknown>) { this.log('warn', m, meta); }
  error(m: string, meta?: Record<string, unknown>) { this.log('error', m, meta); }
}
