import pino from 'pino';
import { prettyFactory } from 'pino-pretty';
import { isInteractive, terminalStream } from './terminal.js';

export type Logger = pino.Logger;

/**
 * JSON lines for machines; readable lines when stdout is a terminal.
 * Lines about one sync carry logId, mapping and workflowId.
 */
export function createLogger(level: string = process.env.FERRY_LOG_LEVEL ?? 'info'): Logger {
  const options = { name: 'ferry', level, base: undefined };
  if (!isInteractive()) return pino(options);
  // Formatted in-process and written synchronously, so each line can step around the status line.
  const prettify = prettyFactory({ ignore: 'name', translateTime: 'HH:MM:ss.l', colorize: true });
  return pino(options, { write: (line: string) => void terminalStream.write(prettify(line)) });
}

/** A logger that says nothing: tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
