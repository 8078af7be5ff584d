// A transform thread (activities/transform-pool.ts starts it): it imports the
// config module itself, then runs the transforms it is asked for, by mapping
// name, on rows that arrive by structured clone. Before each call it writes
// the call's index and start time where the pool can read them, so a call
// that never returns (a busy loop included) is found and its thread ended.
import { parentPort, workerData } from 'node:worker_threads';
import type { Row, Transform } from '../src/config.js';
import { importConfigModule } from '../src/config/import-module.js';
import { asBuffers, valueProblem } from './row-values.js';
import type { ThreadCall, ThreadJob, ThreadOutcome, ThreadReply } from './transform-pool.js';

const { module, progress } = workerData as { module: string; progress: SharedArrayBuffer };
/** [0]: the index of the call running now (-1: none); [1]: its start, ms since the epoch (read by the pool). */
const running = new BigInt64Array(progress);

const port = parentPort!;
const transforms = new Map<string, Transform>();

try {
  const exported = (await importConfigModule(module)) as { mappings?: { name?: unknown; transform?: unknown }[] } | null;
  for (const m of exported?.mappings ?? [])
    if (typeof m?.name === 'string' && typeof m.transform === 'function') transforms.set(m.name, m.transform as Transform);
  port.postMessage({ ready: [...transforms.keys()] } satisfies ThreadReply);
} catch (err) {
  port.postMessage({ loadError: (err as Error).message ?? String(err) } satisfies ThreadReply);
}

port.on('message', async (job: ThreadJob) => {
  const transform = transforms.get(job.mapping)!;
  const outcomes: ThreadOutcome[] = [];
  for (let i = 0; i < job.calls.length; i++) {
    Atomics.store(running, 1, BigInt(Date.now()));
    Atomics.store(running, 0, BigInt(i));
    outcomes.push(await outcomeOf(transform, job.calls[i]!));
  }
  Atomics.store(running, 0, -1n);
  try {
    port.postMessage({ id: job.id, outcomes } satisfies ThreadReply);
  } catch (err) {
    // Each outcome was checked; a value past those checks still gets a sentence, not a crash.
    const message = `returned a value that cannot leave its thread: ${(err as Error).message}`;
    port.postMessage({ id: job.id, outcomes: outcomes.map(() => ({ error: message })) } satisfies ThreadReply);
  }
});

async function outcomeOf(transform: Transform, call: ThreadCall): Promise<ThreadOutcome> {
  let out: unknown;
  try {
    for (const parent of Object.values(call.ctx.parents)) asBuffers(parent);
    out = await transform(asBuffers(call.row), call.ctx);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
  if (out === null || typeof out !== 'object' || Array.isArray(out))
    return typeof out === 'function' || typeof out === 'symbol' ? { error: `returned a ${typeof out}` } : { out };
  const row: Row = {};
  for (const [column, value] of Object.entries(out)) {
    // The same checks as in the worker's thread, made here: a function or a symbol cannot be sent back.
    const problem = valueProblem(value);
    if (problem) return { problem: { column, ...problem } };
    row[column] = crossable(value);
  }
  return { out: row };
}

/**
 * A value as JSON would write it, in a form structured clone keeps: an
 * object's `toJSON()` (a Decimal's string) is applied here, where its class is
 * known; Dates and bytes cross as they are.
 */
function crossable(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Date || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(crossable);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return crossable((value as { toJSON(): unknown }).toJSON());
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, crossable(v)]));
}
