// How a one-shot command prints its result: lines for a person (text), or one
// JSON document on stdout (json) that a script parses; logs never mix into it.
import type { OutputFormat } from './common-options.js';

/** Prints `data` as JSON, or the text `toText` makes of it. */
export function emit<T>(format: OutputFormat, data: T, toText: (data: T) => string): void {
  if (format === 'json') process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else {
    const text = toText(data);
    if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}
