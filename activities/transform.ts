import { ApplicationFailure } from '@temporalio/activity';
import type { Mapping, Row, TransformContext } from '../src/config.js';
import { TRANSFORM_ERROR } from '../src/contract/index.js';

/**
 * Runs the mapping's user code. Whatever it throws is a property of the data,
 * not of the moment: it fails once, as a non-retryable failure carrying the
 * message, instead of being retried forever.
 */
export async function runTransform(mapping: Mapping, row: Row, ctx: TransformContext): Promise<Row | null> {
  let out: Row | null;
  try {
    out = (await mapping.transform(row, ctx)) ?? null;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw ApplicationFailure.nonRetryable(`transform of ${mapping.name} threw: ${message}`, TRANSFORM_ERROR);
  }
  if (out === null) return null;
  if (typeof out !== 'object' || Array.isArray(out)) {
    throw ApplicationFailure.nonRetryable(`transform of ${mapping.name} returned ${typeof out}, not a row object`, TRANSFORM_ERROR);
  }
  const key = out[mapping.target.key];
  // With `link`, a missing key means: create the counterpart and link it.
  if ((key === null || key === undefined) && !mapping.link) {
    throw ApplicationFailure.nonRetryable(
      `transform of ${mapping.name} returned no value for the target key "${mapping.target.key}"`,
      TRANSFORM_ERROR,
    );
  }
  return out;
}
