// The options and option parsers every command shares, so each command states
// a convention in one line (`withOutput(cmd)`, `withBatchSize(cmd, ...)`) and
// a bad value is a one-line UsageError (exit 2) before anything loads.
import { Option, type Command } from 'commander';
import { parseDuration } from '../duration.js';
import { UsageError } from './usage-error.js';

export const duration =
  (flag: string) =>
  (value: string): number => {
    const ms = parseDuration(/^\d+$/.test(value) ? Number(value) : value);
    if (ms === undefined) throw new UsageError(`${flag}: not a duration: "${value}" (e.g. 90s, 5m, 7d)`);
    return ms;
  };

export const positiveInt =
  (flag: string) =>
  (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag}: not a positive whole number: "${value}"`);
    return Number(value);
  };

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export function logLevel(value: string, from = '--log-level'): string {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new UsageError(`${from}: not a level: "${value}" (one of ${LOG_LEVELS.join(', ')})`);
  return value;
}

export type OutputFormat = 'text' | 'json';

export function outputFormat(value: string): OutputFormat {
  if (value !== 'text' && value !== 'json') throw new UsageError(`--output: not a format: "${value}" (text or json)`);
  return value;
}

/** What withOutput adds to a command's flags. */
export interface OutputFlags {
  output: OutputFormat;
}

/** `-o text|json` (the Temporal CLI's form), with `--json` kept as an alias of `-o json`. */
export function withOutput(command: Command): Command {
  return command
    .addOption(new Option('-o, --output <format>', 'text or json').default('text').argParser(outputFormat))
    .addOption(new Option('--json', 'the same as -o json').implies({ output: 'json' }));
}

/** What withBatchSize adds to a command's flags. */
export interface BatchSizeFlags {
  batchSize: number;
  /** The old name (backfill and verify), hidden; read through batchSizeOf. */
  batch?: number;
}

/** `--batch-size N`, one name in every command; `--batch` still parses, hidden and deprecated. */
export function withBatchSize(command: Command, what: string, defaultValue = 1000): Command {
  return command
    .addOption(new Option('--batch-size <n>', what).default(defaultValue).argParser(positiveInt('--batch-size')))
    .addOption(new Option('--batch <n>').hideHelp().argParser(positiveInt('--batch')));
}

export function batchSizeOf(flags: BatchSizeFlags): number {
  if (flags.batch === undefined) return flags.batchSize;
  process.stderr.write('ferry: --batch is deprecated: use --batch-size\n');
  return flags.batch;
}

/** `-c`/`--config` and `--log-level`: on the program, so they go before or after any command's name. */
export function withGlobalOptions(program: Command): Command {
  return program
    .option('-c, --config <path>', 'the config module (default: FERRY_CONFIG, else ferry.config.ts, .mjs or .js here)')
    .addOption(new Option('--log-level <level>', `${LOG_LEVELS.join(', ')} (default: FERRY_LOG_LEVEL, or info)`).argParser((v) => logLevel(v)));
}
