import { jitteredDelay, pause } from '../reconnect-backoff.js';
import { createWorker, type FerryWorker, type WorkerDeps } from './worker.js';

/**
 * Keeps one Temporal worker running until stop(): a worker that dies
 * (Temporal gone for too long, a lost connection) is created again with
 * backoff and jitter, so an outage is waited out rather than crashed through.
 */
export class WorkerSupervisor {
  /** Resolves once a worker polls for the first time. */
  readonly ready: Promise<void>;
  private worker: FerryWorker | undefined;
  private readonly done: Promise<void>;
  private finished = false;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly signal: AbortSignal,
  ) {
    let markReady!: () => void;
    this.ready = new Promise((resolve) => (markReady = resolve));
    this.done = this.superviseUntilAborted(markReady).finally(() => (this.finished = true));
  }

  /** Whether the supervising loop still runs (it does through every outage, until stop()), for /livez. */
  alive(): boolean {
    return !this.finished;
  }

  /** The current worker's state, for /healthz. */
  state(): ReturnType<FerryWorker['getState']> | undefined {
    return this.worker?.getState();
  }

  /** Stops polling and lets in-flight work finish (bounded by shutdownGraceTime); call after aborting the signal. */
  async stop(): Promise<void> {
    this.worker?.shutdown();
    await this.done;
  }

  private async superviseUntilAborted(markReady: () => void): Promise<void> {
    const { config, logger, connection: shared } = this.deps;
    for (let failures = 0; !this.signal.aborted;) {
      try {
        const created = await createWorker(this.deps, this.signal);
        this.worker = created.worker;
        try {
          if (this.signal.aborted) return;
          logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker polling');
          const running = this.worker.run();
          markReady();
          await running;
          failures = 0;
        } finally {
          if (!shared) await created.connection.close().catch(() => {});
        }
      } catch (err) {
        if (this.signal.aborted) return;
        failures++;
        const delayMs = jitteredDelay(failures);
        logger.error({ err: (err as Error).message, delayMs }, 'worker stopped, restarting');
        await pause(delayMs, this.signal);
      }
    }
  }
}
