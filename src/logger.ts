import pino from 'pino';

export type Logger = pino.Logger;

/**
 * JSON lines for machines; readable lines when stdout is a terminal.
 * Lines about one sync carry logId, mapping and workflowId.
 */
export function createLogger(level: string = process.env.FERRY_LOG_LEVEL ?? 'info'): Logger {
  const pretty = process.stdout.isTTY && !process.env.FERRY_LOG_JSON;
  return pino({
    name: 'ferry',
    level,
    base: undefined,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { ignore: 'name', translateTime: 'HH:MM:ss.l' } } } : {}),
  });
}

/** A logger that says nothing: tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
