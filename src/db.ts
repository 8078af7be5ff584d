import pg from 'pg';
import { parseExactJson, parseInt8 } from './exact-json.js';

// bigint (int8) as a JS number while it is exact: log ids stay far below 2^53,
// and numbers keep workflow arguments and JSON output plain. A larger value
// (a row's key above 2^53) stays a string rather than being rounded; so do
// such numbers inside json/jsonb (rows travel as to_jsonb).
pg.types.setTypeParser(pg.types.builtins.INT8, parseInt8);
pg.types.setTypeParser(pg.types.builtins.JSONB, parseExactJson);
pg.types.setTypeParser(pg.types.builtins.JSON, parseExactJson);

export type Pool = pg.Pool;
export type Client = pg.PoolClient;

export function createPool(url: string, max = 10, applicationName = 'ferry'): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: applicationName });
  // An idle client that loses its server must not crash the process; the next
  // query gets a fresh connection.
  pool.on('error', () => {});
  return pool;
}

/** Runs fn in a transaction on one client; rolls back when fn throws. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Transaction-scoped advisory lock on a named thing (a row identity such as
 * "salesforce.account|portal_user_id__c|42"). Shared locks let readers that
 * only need the thing to stay put run together.
 */
export async function lockIdentity(client: pg.PoolClient, identity: string, shared = false): Promise<void> {
  const fn = shared ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await client.query(`SELECT ${fn}(hashtextextended($1, 0))`, [identity]);
}

export function rowIdentity(table: string, column: string, value: unknown): string {
  return `${table}|${column}|${String(value)}`;
}

/** A short-lived pool for one CLI command: closed when fn is done. */
export async function withPool<T>(url: string, max: number, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = createPool(url, max);
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}
