import { createRequire } from 'node:module';
import pino from 'pino';
import { isInteractive, terminalStream, useColor } from './terminal.js';

export type Logger = pino.Logger;

export interface LoggerOptions {
  /**
   * Where lines go. A command that prints a JSON result (`-o json`) logs to
   * stderr, so its stdout stays one document a script parses.
   */
  to?: 'stdout' | 'stderr';
}

/**
 * JSON lines for machines; readable lines when stdout is a terminal, coloured
 * unless NO_COLOR is set. Lines about one sync carry logId, mapping and workflowId.
 */
export function createLogger(level: string = process.env.FERRY_LOG_LEVEL ?? 'info', opts: LoggerOptions = {}): Logger {
  const options = { name: 'ferry', level, base: undefined };
  if (opts.to === 'stderr') return pino(options, pino.destination(2));
  const prettyFactory = isInteractive() ? optionalPrettyFactory() : undefined;
  if (!prettyFactory) return pino(options);
  // Formatted in-process and written synchronously, so each line can step around the status line.
  const prettify = prettyFactory({ ignore: 'name', translateTime: 'HH:MM:ss.l', colorize: useColor(process.stdout) });
  return pino(options, { write: (line: string) => void terminalStream.write(prettify(line)) });
}

/** A logger that says nothing: tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

/** pino-pretty is an optional extra (a checkout has it; an installed package may not): JSON lines without it. */
function optionalPrettyFactory(): typeof import('pino-pretty').prettyFactory | undefined {
  try {
    return (createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty')).prettyFactory;
  } catch {
    return undefined;
  }
}
