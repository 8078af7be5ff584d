import type { Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { TransformPool } from '../activities/transform-pool.js';
import { useTransformPool } from '../activities/transform.js';
import { ConfigError, configModuleOf, requiredParentLoops, type FerryConfig } from './config.js';
import { createPool, type Pool } from './db/index.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { logEvents } from './operate/event-log.js';
import { FerryEvents } from './events.js';
import type { HttpServer } from './operate/http.js';
import { Listener } from './dispatch/listener.js';
import { WalCapture } from './capture/wal/wal-capture.js';
import type { Logger } from './logger.js';
import { startOpsServer } from './operate/ops-server.js';
import { connectClient, ferryClient, waitForSearchAttributes } from './temporal/client.js';
import { connectNative, installRuntime } from './worker/worker.js';
import { WorkerSupervisor } from './worker/supervisor.js';

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
  /** WAL mode: the capture reading the replication slot. */
  walCapture?: WalCapture;
  /** The /metrics and /healthz server, when RunOptions.http asked for one. */
  http?: HttpServer;
  /** Resolves once the worker is polling (immediately when this process runs no worker). */
  workerReady: Promise<void>;
  /** Stops the listener, then lets the worker finish in-flight work, then closes connections. */
  stop(): Promise<void>;
}

/**
 * Starts what this process runs: the /metrics and /healthz server, a
 * supervised worker, and the listener with its dispatcher. Postgres or
 * Temporal outages are waited out. stop() takes them down in the reverse order.
 */
export async function runFerry(opts: RunOptions): Promise<FerryProcess> {
  const { config, logger } = opts;
  const abort = new AbortController();
  // Single syncs, batch chunks, and the dispatcher's claims.
  const pool = createPool(config.database.url, config.database.poolSize + config.worker.batchSlots + 2);
  const events = new FerryEvents();
  logEvents(events, logger);
  const proc: FerryProcess = { pool, events, workerReady: Promise.resolve(), stop: async () => {} };
  // Allowed, but rows that point at each other along such a loop can never sync.
  for (const warning of requiredParentLoops(config.mappings)) logger.warn(warning);

  let supervisor: WorkerSupervisor | undefined;
  const ops = opts.http
    ? await startOpsServer({
        config,
        logger,
        pool,
        events,
        at: opts.http,
        work: opts.work,
        listening: opts.listen ? () => proc.listener?.listening ?? false : undefined,
        workerState: opts.work ? () => supervisor?.state() : undefined,
        loops: {
          workerLoop: opts.work ? () => supervisor?.alive() ?? true : undefined,
          listenerLoop: opts.listen ? () => proc.listener?.running ?? true : undefined,
        },
      })
    : undefined;
  proc.http = ops?.http;

  // Listener and worker in one process share one connection, so a workflow
  // the dispatcher starts can be handed straight to this worker (eager start):
  // its first task skips the task queue, for more syncs per second and lower latency.
  // The SDK's runtime first, so even the first connection logs through this logger (not the console).
  if (opts.work) await installRuntime(logger);
  // The threads load while the rest starts (calls wait for them); a module that does not fit stops the start below.
  const transforms = opts.work ? startTransformPool(config, logger) : undefined;
  const shared = opts.listen && opts.work ? await connectNative(config, logger, abort.signal) : undefined;
  if (opts.work) {
    const { workflowBundle, shutdownGraceTime } = opts;
    supervisor = new WorkerSupervisor({ config, pool, logger, events, workflowBundle, shutdownGraceTime, connection: shared }, abort.signal);
    proc.workerReady = supervisor.ready;
  }
  if (opts.listen) {
    proc.client = shared ? ferryClient(shared, config) : await connectClient(config, logger, abort.signal);
    await waitForSearchAttributes(proc.client, config.temporal.namespace, logger, abort.signal);
    proc.dispatcher = new Dispatcher({ pool, client: proc.client, config, logger, events, eagerStart: shared !== undefined });
    proc.listener = new Listener({ config, dispatcher: proc.dispatcher, logger, events });
    await proc.listener.start();
    if (config.capture.mode === 'wal') {
      const dispatcher = proc.dispatcher;
      proc.walCapture = new WalCapture({ config, pool, logger, events, onLogged: () => dispatcher.kick() });
      proc.walCapture.start();
    }
  }

  proc.stop = async () => {
    abort.abort();
    // No new work first: the listener and dispatcher stop starting workflows;
    // then the worker stops polling and finishes what it holds (bounded by
    // shutdownGraceTime). Whatever is left stays in Temporal and the log table.
    await proc.walCapture?.close();
    await proc.listener?.close();
    await proc.dispatcher?.close();
    await supervisor?.stop();
    if (transforms) useTransformPool(config.mappings, undefined);
    await transforms?.pool.close();
    await ops?.close();
    await proc.client?.connection.close();
    await pool.end();
  };
  await transforms?.ready.catch(async (err: unknown) => {
    await proc.stop();
    throw err;
  });
  return proc;
}

/**
 * The transform threads of `transforms.isolation: 'thread'` (the default when
 * the config's module is known): in use at once, calls waiting until a thread
 * has loaded the module; `ready` fails when it cannot.
 */
function startTransformPool(config: FerryConfig, logger: Logger): { pool: TransformPool; ready: Promise<void> } | undefined {
  const module = configModuleOf(config);
  const isolation = config.transforms.isolation ?? (module ? 'thread' : 'inline');
  if (isolation === 'inline') return undefined;
  if (!module)
    throw new ConfigError(
      "config: transforms.module: isolation 'thread' needs the module whose default export is this config (e.g. module: import.meta.url)",
    );
  const pool = new TransformPool(module, config.transforms.threads);
  useTransformPool(config.mappings, pool);
  const ready = pool.start(config.mappings).then(() => logger.info({ threads: config.transforms.threads }, 'transforms run in worker threads'));
  ready.catch(() => {}); // awaited at the end of the start; a start that fails before then must not leave it unhandled
  return { pool, ready };
}
