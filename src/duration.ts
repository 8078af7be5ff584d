import ms from 'ms';

/** A duration as config takes it: milliseconds, or a string such as '500ms', '1s', '5m', '7d'. */
export type DurationInput = number | string;

/** Milliseconds for a duration, or undefined when it does not parse. */
export function parseDuration(value: DurationInput): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const parsed = ms(value as ms.StringValue);
  return typeof parsed === 'number' && Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}
