import { ApplicationFailure } from '@temporalio/activity';
import type { Mapping, Row, TransformContext } from '../src/config.js';
import { TRANSFORM_ERROR } from '../src/contract/index.js';
import { valueProblem } from './row-values.js';

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
    if (err instanceof TransformTimeout) throw ApplicationFailure.nonRetryable(`transform of ${mapping.name} ${err.message}`, TRANSFORM_ERROR);
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
    if (problem)
      throw ApplicationFailure.nonRetryable(
        `transform of ${mapping.name}: column "${column}"${problem.path ? ` at ${problem.path}` : ''} is ${problem.what}, which Ferry cannot write`,
        TRANSFORM_ERROR,
      );
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

/**
 * Calls the user's transform, bounded by `transformTimeout`: a promise that
 * never settles fails the log instead of holding the row's lock forever.
 */
export async function callTransform(mapping: Mapping, row: Row, ctx: TransformContext): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TransformTimeout(`did not finish within ${mapping.transformTimeout} ms (transformTimeout)`)),
      mapping.transformTimeout,
    );
  });
  try {
    return await Promise.race([Promise.resolve().then(() => mapping.transform(row, ctx)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

class TransformTimeout extends Error {}
