import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postgresErrorSentence } from '../src/worker/postgres-errors.js';

const pgError = (message: string, fields: Partial<pg.DatabaseError>) => Object.assign(new pg.DatabaseError(message, 0, 'error'), fields);

describe('postgresErrorSentence', () => {
  it('keeps the SQLSTATE and the names, never the message', () => {
    const err = pgError('duplicate key value violates unique constraint "u" Key (email)=(ada@example.com)', {
      severity: 'ERROR',
      code: '23505',
      schema: 'salesforce',
      table: 'account',
      constraint: 'account_email_key',
    });
    const sentence = postgresErrorSentence(err)!;
    expect(sentence).toBe("Postgres error SQLSTATE 23505 (table salesforce.account, constraint account_email_key); the worker's log has its message");
    expect(sentence).not.toContain('ada@example.com');
    expect(postgresErrorSentence(pgError('ada@example.com busy', { severity: 'ERROR', code: '40001' }))).toBe(
      "Postgres error SQLSTATE 40001; the worker's log has its message",
    );
  });
  it('leaves other errors alone', () => {
    expect(postgresErrorSentence(new Error('connect ECONNREFUSED'))).toBeUndefined();
    expect(postgresErrorSentence(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeUndefined();
  });
});
