import v8 from 'node:v8';

/**
 * V8 settings for a process that runs the worker (`ferry start`, `worker`,
 * `dev`), set at run time by the CLI before the worker exists. No re-exec: a
 * parent process would cost more memory than these save.
 *
 * - `--heap-growing-percent=50`: after a full GC, V8 lets the old generation
 *   grow to up to 4x its live size before the next one when its heap limit is
 *   2 GiB or more, as on any host with several GiB of RAM (2x or less in a
 *   small container). A burst or a backfill makes garbage fast, so the main
 *   heap swells to several times its live set. 1.5x keeps the peak the same
 *   on any host, for a little more CPU (docs/operating.md, "Memory"). V8 reads this flag at each GC,
 *   so it holds for the main thread, whose heap is already set up.
 * - `--max-semi-space-size=4`: the young generation is sized when an isolate
 *   is created, so this reaches only the workflow thread, started later;
 *   workflow activations make little garbage and need no 16 MiB semi-spaces.
 *
 * A flag already given (`node --max-semi-space-size=8 bin/ferry.mjs start`,
 * or NODE_OPTIONS) wins.
 */
const WORKER_V8_FLAGS = ['--heap-growing-percent=50', '--max-semi-space-size=4'];

/** The flags of WORKER_V8_FLAGS that `given` (Node's own command line and NODE_OPTIONS) does not set. */
export function workerV8Flags(given: string): string[] {
  const spelled = given.replaceAll('_', '-');
  return WORKER_V8_FLAGS.filter((flag) => !spelled.includes(flag.slice(0, flag.indexOf('='))));
}

export function boundWorkerHeap(): void {
  for (const flag of workerV8Flags([...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' '))) v8.setFlagsFromString(flag);
}
