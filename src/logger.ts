import { createRequire } from 'node:module';
import pino from 'pino';
import { isInteractive, terminalStream } from './terminal.js';

export type Logger = pino.Logger;

/**
 * JSON lines for machines; readable lines when stdout is a terminal.
 * Lines about one sync carry logId, mapping and workflowId.
 */
export function createLogger(level: string = process.env.FERRY_LOG_LEVEL ?? 'info'): Logger {
  const options = { name: 'ferry', level, base: undefined };
  const prettyFactory = isInteractive() ? optionalPrettyFactory() : undefined;
  if (!prettyFactory) return pino(options);
  // Formatted in-process and written synchronously, so each line can step around the status line.
  const prettify = prettyFactory({ ignore: 'name', translateTime: 'HH:MM:ss.l', colorize: true });
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
