import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';

/** What node-postgres puts on an error the server sent. */
interface PostgresError {
  code: string;
  severity: string;
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
}

function isPostgresError(err: unknown): err is PostgresError {
  const e = err as Partial<PostgresError> | null;
  return typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string';
}

/**
 * A Postgres error as Ferry tells it to Temporal: the SQLSTATE and the names
 * Postgres gives (table, column, constraint), never its message, which may
 * quote values (a unique violation's key, a trigger's RAISE of NEW.email).
 * Undefined for any other error.
 */
export function postgresErrorSentence(err: unknown): string | undefined {
  if (!isPostgresError(err)) return undefined;
  const names = [
    err.table ? `table ${err.schema ? `${err.schema}.` : ''}${err.table}` : '',
    err.column ? `column ${err.column}` : '',
    err.constraint ? `constraint ${err.constraint}` : '',
  ].filter(Boolean);
  return `Postgres error SQLSTATE ${err.code}${names.length ? ` (${names.join(', ')})` : ''}; the worker's log has its message`;
}

/**
 * An activity inbound interceptor: an activity that throws a Postgres error
 * (one Temporal retries: data failures are Ferry's own sentences already)
 * throws Ferry's sentence instead, so no value reaches the workflow's history
 * or its pending activity's last failure. Placed outside observeActivities,
 * which logs the message in the worker's own log.
 */
export function keepPostgresMessagesHome(): ActivityInterceptorsFactory {
  const inbound: ActivityInboundCallsInterceptor = {
    async execute(input, next) {
      try {
        return await next(input);
      } catch (err) {
        const sentence = postgresErrorSentence(err);
        throw sentence ? ApplicationFailure.retryable(sentence, 'PostgresError') : err;
      }
    },
  };
  return () => ({ inbound });
}
