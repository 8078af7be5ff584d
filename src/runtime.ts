import { Client, Connection } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import { jitteredDelay, pause } from './backoff.js';
import { requiredParentLoops, type FerryConfig } from './config.js';
import { createPool, type Pool } from './db/index.js';
import { Dispatcher } from './dispatcher.js';
import { logEvents } from './event-log.js';
import { FerryEvents } from './events.js';
import { checkHealth } from './health.js';
import { startHttpServer, type HttpServer } from './http.js';
import { Listener } from './listener.js';
import type { Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { connectClient } from './temporal.js';
import { connectNative, createWorker, installRuntime } from './worker.js';

export interface RunOptions {
  config: FerryConfig;
  logger: Logger;
  /** Which halves run in this process: both for `start`. */
  listen: boolean;
  work: boolean;
  workflowBundle?: { codePath: string };
  /** How long stop() lets in-flight activities finish before cancelling them (default 10s). */
  shutdownGraceTime?: Duration;
  /** Serve /metrics and /healthz here (the CLI passes config.metrics); nothing when unset. */
  http?: { port: number; host: string };
}

export interface FerryProcess {
  pool: Pool;
  events: FerryEvents;
  client?: Client;
  dispatcher?: Dispatcher;
  listener?: Listener;
  /** The /metrics and /healthz server, when RunOptions.http asked for one. */
  http?: HttpServer;
  /** Resolves once the worker is polling (immediately when this process runs no worker). */
  workerReady: Promise<void>;
  /** Stops the listener, then lets the worker finish in-flight work, then closes connections. */
  stop(): Promise<void>;
}

/** Starts the listener and/or the worker, waiting out Postgres or Temporal outages. */
export async function runFerry(opts: RunOptions): Promise<FerryProcess> {
  const { config, logger } = opts;
  const abort = new AbortController();
  const pool = createPool(config.database.url, config.database.poolSize + 2);
  const events = new FerryEvents();
  logEvents(events, logger);
  const proc: FerryProcess = { pool, events, workerReady: Promise.resolve(), stop: async () => {} };
  // Allowed, but rows that point at each other along such a loop can never sync.
  for (const warning of requiredParentLoops(config.mappings)) logger.warn(warning);

  let worker: Worker | undefined;
  // Served before anything waits for Postgres or Temporal, so an outage at
  // start-up shows as 503 rather than as no answer.
  let healthConnection: Connection | undefined;
  if (opts.http) {
    const sdkMetricsUrl = opts.work ? await installRuntime(logger, { sdkMetrics: true }) : undefined;
    const listening = opts.listen ? () => proc.listener?.listening ?? false : undefined;
    healthConnection = Connection.lazy({ address: config.temporal.address, connectTimeout: '2s' });
    const temporal = healthConnection;
    proc.http = await startHttpServer({
      ...opts.http,
      metrics: createMetrics({ pool, events, listening, sdkMetricsUrl }),
      health: () =>
        checkHealth({
          pool,
          temporal,
          namespace: config.temporal.namespace,
          listening,
          workerState: opts.work ? () => worker?.getState() : undefined,
        }),
    });
    logger.info({ metrics: `${proc.http.url}/metrics`, health: `${proc.http.url}/healthz` }, 'serving metrics and health');
  }
  let workerDone: Promise<void> = Promise.resolve();
  // Listener and worker in one process share one connection, so a workflow
  // the dispatcher starts can be handed straight to this worker (eager start):
  // its first task skips the task queue. About a fifth more syncs per second
  // on the dev server (npm run bench), and lower latency.
  const shared = opts.listen && opts.work ? await connectNative(config, logger, abort.signal) : undefined;
  if (opts.work) {
    let markReady: () => void;
    proc.workerReady = new Promise((resolve) => (markReady = resolve));
    // The worker runs until shutdown; if it dies (Temporal gone for too long),
    // it is created again with backoff.
    workerDone = (async () => {
      for (let failures = 0; !abort.signal.aborted; ) {
        try {
          const created = await createWorker({ config, pool, logger, events, workflowBundle: opts.workflowBundle, shutdownGraceTime: opts.shutdownGraceTime, connection: shared }, abort.signal);
          worker = created.worker;
          try {
            if (abort.signal.aborted) return;
            logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker polling');
            const running = worker.run();
            markReady!();
            await running;
            failures = 0;
          } finally {
            if (!shared) await created.connection.close().catch(() => {});
          }
        } catch (err) {
          if (abort.signal.aborted) return;
          failures++;
          const delayMs = jitteredDelay(failures);
          logger.error({ err: (err as Error).message, delayMs }, 'worker stopped, restarting');
          await pause(delayMs, abort.signal);
        }
      }
    })();
  }

  if (opts.listen) {
    proc.client = shared ? new Client({ connection: shared, namespace: config.temporal.namespace }) : await connectClient(config, logger, abort.signal);
    proc.dispatcher = new Dispatcher({ pool, client: proc.client, config, logger, events, eagerStart: shared !== undefined });
    proc.listener = new Listener({ config, dispatcher: proc.dispatcher, logger, events });
    await proc.listener.start();
  }

  proc.stop = async () => {
    abort.abort();
    // No new work first: the listener and dispatcher stop starting workflows;
    // then the worker stops polling and finishes what it holds (bounded by
    // shutdownGraceTime). Whatever is left stays in Temporal and the log table.
    await proc.listener?.close();
    await proc.dispatcher?.close();
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await workerDone;
    await proc.http?.close();
    await healthConnection?.close().catch(() => {});
    await proc.client?.connection.close();
    await pool.end();
  };
  return proc;
}
