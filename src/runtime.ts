import type { Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import { jitteredDelay, pause } from './backoff.js';
import type { FerryConfig } from './config.js';
import { createPool, type Pool } from './db.js';
import { Dispatcher } from './dispatcher.js';
import { FerryEvents } from './events.js';
import { Listener } from './listener.js';
import type { Logger } from './logger.js';
import { connectClient } from './temporal.js';
import { createWorker } from './worker.js';

export interface RunOptions {
  config: FerryConfig;
  logger: Logger;
  /** Which halves run in this process: both for `start`. */
  listen: boolean;
  work: boolean;
  workflowBundle?: { codePath: string };
  shutdownGraceTime?: Duration;
}

export interface FerryProcess {
  pool: Pool;
  events: FerryEvents;
  client?: Client;
  dispatcher?: Dispatcher;
  listener?: Listener;
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
  const proc: FerryProcess = { pool, events, workerReady: Promise.resolve(), stop: async () => {} };

  let worker: Worker | undefined;
  let workerDone: Promise<void> = Promise.resolve();
  if (opts.work) {
    let markReady: () => void;
    proc.workerReady = new Promise((resolve) => (markReady = resolve));
    // The worker runs until shutdown; if it dies (Temporal gone for too long),
    // it is created again with backoff.
    workerDone = (async () => {
      for (let failures = 0; !abort.signal.aborted; ) {
        try {
          const created = await createWorker({ config, pool, logger, workflowBundle: opts.workflowBundle, shutdownGraceTime: opts.shutdownGraceTime }, abort.signal);
          worker = created.worker;
          try {
            if (abort.signal.aborted) return;
            logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker polling');
            const running = worker.run();
            markReady!();
            await running;
            failures = 0;
          } finally {
            await created.connection.close().catch(() => {});
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
    proc.client = await connectClient(config, logger, abort.signal);
    proc.dispatcher = new Dispatcher({ pool, client: proc.client, config, logger, events });
    proc.listener = new Listener({ config, dispatcher: proc.dispatcher, logger, events });
    await proc.listener.start();
  }

  proc.stop = async () => {
    abort.abort();
    await proc.listener?.close();
    await proc.dispatcher?.close();
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await workerDone;
    await proc.client?.connection.close();
    await pool.end();
  };
  return proc;
}
