// Transforms in worker threads (`transforms.isolation: 'thread'`): a call
// that passes `transformTimeout` ends its thread, a busy loop too, and a new
// thread takes its place; the worker and listener of the process go on.
// A small pool of our own rather than piscina or tinypool: a batch chunk's
// calls go to a thread in one message, and the deadline is per call inside
// it (the thread says which call runs and since when), which a per-task
// timeout of those pools cannot express; the pool is the 150 lines below.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError, type Mapping, type Row, type TransformContext } from '../src/config.js';

export interface ThreadCall {
  row: Row;
  ctx: TransformContext;
}
export interface ThreadJob {
  id: number;
  mapping: string;
  calls: ThreadCall[];
}
/** A call's outcome: its output, what it threw, a column it cannot return, why the pool ended it, or not run (the pool stopped). */
export type ThreadOutcome =
  { out: unknown } | { error: string } | { problem: { column: string; what: string; path: string } } | { ended: string } | { stopped: true };
export type ThreadReply = { ready: string[] } | { loadError: string } | { id: number; outcomes: ThreadOutcome[] };

interface Task {
  mapping: Mapping;
  calls: ThreadCall[];
  resolve(outcomes: ThreadOutcome[]): void;
}

interface Slot {
  worker: Worker;
  /** [0]: the index of the call the thread runs (-1: none); [1]: when it started (ms since the epoch). */
  running: BigInt64Array;
  ready: boolean;
  task?: Task;
  timer?: NodeJS.Timeout;
}

export class TransformPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Task[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    /** File URL of the module whose default export is the config. */
    private readonly module: string,
    private readonly size: number,
  ) {}

  /** Starts the threads; fails when the module does not load in a thread or lacks one of `mappings`. */
  async start(mappings: readonly Mapping[]): Promise<void> {
    const names = await Promise.all(Array.from({ length: this.size }, () => this.spawn())).catch(async (err: unknown) => {
      await this.close();
      throw err;
    });
    const missing = mappings.find((m) => !names[0]!.includes(m.name));
    if (missing) {
      await this.close();
      throw new ConfigError(`config: transforms.module: ${this.module} has no mapping "${missing.name}" with a transform`);
    }
  }

  /** Runs `mapping`'s transform on each call, in one message to one thread; outcomes in the calls' order. */
  run(mapping: Mapping, calls: ThreadCall[]): Promise<ThreadOutcome[]> {
    if (this.closed) return Promise.resolve(calls.map(() => ({ stopped: true })));
    return new Promise((resolve) => {
      this.queue.push({ mapping, calls, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = [...this.slots];
    this.slots.clear();
    await Promise.all(slots.map((s) => this.end(s)));
    const unfinished = [...slots.flatMap((s) => (s.task ? [s.task] : [])), ...this.queue.splice(0)];
    for (const task of unfinished) task.resolve(task.calls.map(() => ({ stopped: true })));
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (!this.queue.length) return;
      if (!slot.ready || slot.task) continue;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.worker.postMessage({ id: this.nextId++, mapping: task.mapping.name, calls: task.calls } satisfies ThreadJob);
      this.watch(slot, task.mapping.transformTimeout);
    }
  }

  /** Checks the running call when it could be due; ends the thread once it is past its deadline. */
  private watch(slot: Slot, timeout: number, wait = timeout): void {
    slot.timer = setTimeout(() => {
      const index = Number(Atomics.load(slot.running, 0));
      const due = Number(Atomics.load(slot.running, 1)) + timeout - Date.now();
      // Not begun yet (the thread has yet to read its message): look again soon.
      if (index < 0) return this.watch(slot, timeout, Math.min(timeout, 50));
      if (due > 0) return this.watch(slot, timeout, due);
      this.fail(slot, index, `did not finish within ${timeout} ms (transformTimeout)`);
    }, wait);
  }

  /** Ends a thread whose call `index` never came back: that call fails, the others run again on another thread. */
  private fail(slot: Slot, index: number, why: string): void {
    const task = slot.task;
    slot.task = undefined;
    this.slots.delete(slot);
    void this.end(slot);
    this.replace();
    if (!task) return;
    const outcomes: ThreadOutcome[] = [];
    outcomes[index] = { ended: why };
    const others = task.calls.flatMap((_, i) => (i === index ? [] : [i]));
    if (!others.length) return task.resolve(outcomes);
    this.queue.unshift({
      mapping: task.mapping,
      calls: others.map((i) => task.calls[i]!),
      resolve: (done) => {
        others.forEach((i, j) => (outcomes[i] = done[j]!));
        task.resolve(outcomes);
      },
    });
    this.pump();
  }

  /** A new thread for one that ended; while the module does not load (a deploy half done), tried again each second. */
  private replace(): void {
    if (this.closed) return;
    this.spawn().catch(() => setTimeout(() => this.replace(), 1000).unref());
  }

  private async end(slot: Slot): Promise<void> {
    clearTimeout(slot.timer);
    slot.worker.removeAllListeners();
    slot.worker.on('error', () => {}); // an error racing terminate() is not news
    await slot.worker.terminate();
  }

  /** A new thread; resolves with the names of the mappings its module has, once it loaded. */
  private spawn(): Promise<string[]> {
    const running = new BigInt64Array(new SharedArrayBuffer(16));
    running[0] = -1n;
    const slot: Slot = { worker: startThread(this.module, running.buffer as SharedArrayBuffer), running, ready: false };
    slot.worker.unref();
    this.slots.add(slot);
    return new Promise((resolve, reject) => {
      slot.worker.on('message', (reply: ThreadReply) => {
        if ('ready' in reply) {
          slot.ready = true;
          resolve(reply.ready);
          this.pump();
        } else if ('loadError' in reply) {
          this.slots.delete(slot);
          void this.end(slot);
          reject(new Error(`transforms: cannot load ${this.module} in a transform thread: ${reply.loadError}`));
        } else {
          clearTimeout(slot.timer);
          const task = slot.task!;
          slot.task = undefined;
          task.resolve(reply.outcomes);
          this.pump();
        }
      });
      // An error thrown outside any call (a timer the transform left behind) or an exit ends the thread.
      const died = (why: string) => {
        if (!this.slots.has(slot)) return;
        if (!slot.ready) {
          this.slots.delete(slot);
          return reject(new Error(`transforms: a transform thread ended while loading ${this.module}: ${why}`));
        }
        this.fail(slot, Math.max(0, Number(Atomics.load(running, 0))), `ended its thread: ${why}`);
      };
      slot.worker.on('error', (err) => died(err.message));
      slot.worker.on('exit', (code) => died(`exit code ${code}`));
    });
  }
}

/**
 * From dist/ the thread runs transform-thread.js as it is; from the sources
 * (vitest, tsx) the thread first registers tsx's loader, as the process did.
 */
// A small young generation per thread: a transform's garbage is short-lived,
// and V8's default semi-spaces (up to 16 MiB each, per isolate) kept tens of
// MiB of RSS per thread after a burst.
const THREAD_LIMITS = { maxYoungGenerationSizeMb: 4 };

function startThread(module: string, progress: SharedArrayBuffer): Worker {
  const workerData = { module, progress };
  const resourceLimits = THREAD_LIMITS;
  if (import.meta.url.endsWith('.js')) return new Worker(new URL('./transform-thread.js', import.meta.url), { workerData, resourceLimits });
  // The ES module entries of tsx's API (require.resolve would give the CommonJS ones).
  const require = createRequire(import.meta.url);
  const pkg = pathToFileURL(require.resolve('tsx/package.json'));
  const { exports } = require('tsx/package.json') as { exports: Record<string, { import: { default: string } }> };
  const [esm, cjs] = ['./esm/api', './cjs/api'].map((api) => new URL(exports[api]!.import.default, pkg).href);
  const entry = new URL('./transform-thread.ts', import.meta.url).href;
  const boot = `Promise.all([import(${JSON.stringify(esm)}), import(${JSON.stringify(cjs)})]).then(([esm, cjs]) => { esm.register(); cjs.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData, resourceLimits });
}
