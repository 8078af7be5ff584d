import { isDeepStrictEqual } from 'node:util';
import { ApplicationFailure } from '@temporalio/activity';
import type { Mapping, Row, TransformContext } from '../src/config.js';
import { TRANSFORM_ERROR } from '../src/contract/index.js';
import { asBuffers, valueProblem } from './row-values.js';
import type { ThreadCall, ThreadOutcome, TransformPool } from './transform-pool.js';

/**
 * Runs the mapping's user code. Whatever it throws is a property of the data,
 * not of the moment: it fails once, as a non-retryable failure carrying the
 * message, instead of being retried forever.
 */
export async function runTransform(mapping: Mapping, row: Row, ctx: TransformContext): Promise<Row | null> {
  let out: unknown;
  try {
    out = await callTransform(mapping, row, ctx);
  } catch (err) {
    if (err instanceof TransformFailure) throw ApplicationFailure.nonRetryable(err.message, TRANSFORM_ERROR);
    if (err instanceof TransformsStopped) throw err; // a shutdown, not the data's fault: retried
    const message = err instanceof Error ? err.message : String(err);
    throw ApplicationFailure.nonRetryable(`transform of ${mapping.name} threw: ${message}`, TRANSFORM_ERROR);
  }
  if (out === null) return null;
  if (out === undefined) {
    // Most often a forgotten `return`: skipping every change silently would hide it.
    throw ApplicationFailure.nonRetryable(`transform of ${mapping.name} returned undefined (return null to skip a change)`, TRANSFORM_ERROR);
  }
  if (typeof out !== 'object' || Array.isArray(out)) {
    const what = Array.isArray(out) ? 'an array' : typeof out;
    throw ApplicationFailure.nonRetryable(`transform of ${mapping.name} returned ${what}, not a row object`, TRANSFORM_ERROR);
  }
  const result = out as Row;
  for (const [column, value] of Object.entries(result)) {
    const problem = valueProblem(value);
    if (problem) throw ApplicationFailure.nonRetryable(badColumn(mapping, { column, ...problem }), TRANSFORM_ERROR);
  }
  const key = result[mapping.target.key];
  // With `link`, a missing key means: create the counterpart and link it.
  if ((key === null || key === undefined) && !mapping.link) {
    throw ApplicationFailure.nonRetryable(
      `transform of ${mapping.name} returned no value for the target key "${mapping.target.key}"`,
      TRANSFORM_ERROR,
    );
  }
  return result;
}

function badColumn(mapping: Mapping, problem: { column: string; what: string; path: string }): string {
  return `transform of ${mapping.name}: column "${problem.column}"${problem.path ? ` at ${problem.path}` : ''} is ${problem.what}, which Ferry cannot write`;
}

// The transform threads serving each mapping of a running process (activities/transform-pool.ts).
const pools = new WeakMap<Mapping, TransformPool>();

/** From now on these mappings' transforms run in `pool`'s threads (undefined: in this thread again). */
export function useTransformPool(mappings: readonly Mapping[], pool: TransformPool | undefined): void {
  for (const m of mappings)
    if (pool) pools.set(m, pool);
    else pools.delete(m);
}

/**
 * Calls the user's transform, bounded by `transformTimeout`: in a thread of
 * the pool, a call past it ends the thread; in this thread, a promise that
 * never settles fails the log instead of holding the row's lock forever (a
 * busy loop cannot be ended here).
 */
export async function callTransform(mapping: Mapping, row: Row, ctx: TransformContext): Promise<unknown> {
  const pool = pools.get(mapping);
  if (pool)
    return outputOf(
      mapping,
      takeAhead(row, ctx) ?? endedBefore(mapping, row, ctx) ?? keepEnded(mapping, [{ row, ctx }], await pool.run(mapping, [{ row, ctx }]))[0]!,
    );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TransformFailure(`transform of ${mapping.name} did not finish within ${mapping.transformTimeout} ms (transformTimeout)`)),
      mapping.transformTimeout,
    );
  });
  try {
    return await Promise.race([Promise.resolve().then(() => mapping.transform(row, ctx)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Calls the transform on many rows (a batch's chunk): in a thread of the
 * pool, all in one message. Each call's output, or what it threw.
 */
export async function callTransforms(mapping: Mapping, calls: ThreadCall[]): Promise<({ out: unknown } | { err: unknown })[]> {
  const pool = pools.get(mapping);
  const settle = async (call: () => unknown) => {
    try {
      return { out: await call() };
    } catch (err) {
      return { err };
    }
  };
  if (pool) {
    const outcomes = keepEnded(mapping, calls, await pool.run(mapping, calls));
    outcomes.forEach((o, i) => ahead.set(calls[i]!.row, { ctx: calls[i]!.ctx, outcome: o }));
    return Promise.all(outcomes.map((o) => settle(() => outputOf(mapping, o))));
  }
  const settled = [];
  for (const { row, ctx } of calls) settled.push(await settle(() => callTransform(mapping, row, ctx)));
  return settled;
}

// A chunk's outcomes from its one message, kept for carry()'s own call on the
// same row and context (a transform is pure): a row costs one thread call, and
// a loop one timeout, not two.
const ahead = new WeakMap<Row, { ctx: TransformContext; outcome: ThreadOutcome }>();

function takeAhead(row: Row, ctx: TransformContext): ThreadOutcome | undefined {
  const kept = ahead.get(row);
  if (!kept) return undefined;
  ahead.delete(row);
  return isDeepStrictEqual(kept.ctx, ctx) ? kept.outcome : undefined;
}

// Calls the pool ended (past their deadline), by mapping and log: a batch's row
// that fails so goes on to its own syncLog, which fails it at once instead of
// waiting out the deadline again. The newest 1,000 are kept.
const ended = new Map<string, { row: Row; ctx: TransformContext; outcome: ThreadOutcome }>();

function keepEnded(mapping: Mapping, calls: ThreadCall[], outcomes: ThreadOutcome[]): ThreadOutcome[] {
  outcomes.forEach((outcome, i) => {
    if (!('ended' in outcome)) return;
    const { row, ctx } = calls[i]!;
    ended.set(`${mapping.name}\0${ctx.logId}`, { row, ctx, outcome });
    if (ended.size > 1000) ended.delete(ended.keys().next().value!);
  });
  return outcomes;
}

function endedBefore(mapping: Mapping, row: Row, ctx: TransformContext): ThreadOutcome | undefined {
  const kept = ended.get(`${mapping.name}\0${ctx.logId}`);
  return kept && isDeepStrictEqual(kept.row, row) && isDeepStrictEqual(kept.ctx, ctx) ? kept.outcome : undefined;
}

/** A thread's outcome as this thread's call would have had it: the output, or the throw. */
function outputOf(mapping: Mapping, outcome: ThreadOutcome): unknown {
  if ('out' in outcome)
    return outcome.out && typeof outcome.out === 'object' && !Array.isArray(outcome.out) ? asBuffers(outcome.out as Row) : outcome.out;
  if ('error' in outcome) throw new Error(outcome.error);
  if ('problem' in outcome) throw new TransformFailure(badColumn(mapping, outcome.problem));
  if ('stopped' in outcome) throw new TransformsStopped(`transform of ${mapping.name} was not run: the transform threads stopped`);
  throw new TransformFailure(`transform of ${mapping.name} ${outcome.ended}`);
}

class TransformsStopped extends Error {}

/** A failure whose message is already the whole sentence. */
class TransformFailure extends Error {}
