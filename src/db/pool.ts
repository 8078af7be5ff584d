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
/** One pooled Postgres connection (not Temporal's Client). */
export type PgClient = pg.PoolClient;
/** Anything that runs a query: the pool, or one connection inside a transaction. */
export type Queryable = pg.Pool | pg.PoolClient;

export function createPool(url: string, max = 10, applicationName = 'ferry'): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    application_name: applicationName,
    // Ferry names every table with its schema: nothing another role creates in
    // a schema on the default path (public, "$user") can stand in for a
    // function or operator Ferry calls. Awaited before the client is handed out.
    onConnect: async (client) => void (await client.query(`SET search_path TO pg_catalog, pg_temp`)),
  });
  // An idle client that loses its server must not crash the process; the next
  // query gets a fresh connection.
  pool.on('error', () => {});
  return pool;
}

/**
 * Runs fn in a transaction on one client; rolls back when fn throws.
 * `readOnly`: Postgres refuses any write in it (what runs the operator's SQL, `--where`).
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, opts: { readOnly?: boolean } = {}): Promise<T> {
  const client = await pool.connect();
  // While checked out, a client has no pool listener for 'error', and a
  // server that goes away (restart, failover, pg_terminate_backend) makes
  // pg emit 'error' on it as the socket closes, even after the query in
  // flight already failed: unheard, that kills the process. The query fails
  // on its own; the broken connection is dropped, not pooled, on release.
  let broken: Error | undefined;
  const onError = (err: Error) => void (broken ??= err);
  client.on('error', onError);
  try {
    await client.query(opts.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
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
