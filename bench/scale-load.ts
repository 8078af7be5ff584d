// The loads bench:scale writes: a plain burst in 500-row statements, a mixed
// backlog (single-row transactions, 100-row inserts, 100-row updates of
// random ranges), and finished logs made with set-based SQL.
import pg from 'pg';
import type { Pool } from '../src/db/index.js';

const LOG = 'ferry.database_trigger_log';

/** A fresh start for a scenario: no users, no accounts, an empty log, its statistics reset. */
export async function emptyTables(pool: Pool): Promise<void> {
  // Emptying the tables is no change to carry: Ferry refuses a TRUNCATE unless told so.
  await pool.query(`BEGIN; SET LOCAL ferry.allow_truncate = on;
    TRUNCATE portal.users, salesforce.account, bench.account_writes, ${LOG} RESTART IDENTITY; COMMIT`);
  await pool.query(`VACUUM ANALYZE ${LOG}`);
}

/** `rows` new users in 500-row statements, one after the other on one connection. */
export async function insertBurst(pool: Pool, rows: number, from = 0): Promise<void> {
  for (let i = from; i < from + rows; i += 500) {
    await pool.query(
      `INSERT INTO portal.users (email, full_name) SELECT 'u' || g || '@example.com', 'User ' || g FROM generate_series($1::int, $2::int) g`,
      [i + 1, Math.min(i + 500, from + rows)],
    );
  }
}

/**
 * About `changes` logged changes of portal.users, written by four connections
 * at once: each round one connection writes ten single-row transactions and
 * the others a 100-row insert or a 100-row update of a random range of the
 * rows already there (so the same rows change again and again). Returns the
 * number of changes written, which is the number of logs.
 */
export async function writeMixed(url: string, changes: number, seed: number): Promise<number> {
  let written = 0;
  let users = seed;
  let round = 0;
  const writer = async (lane: number) => {
    const client = new pg.Client({ connectionString: url, application_name: 'ferry-bench-scale-mixed' });
    await client.connect();
    try {
      while (written < changes) {
        const kind = (round++ + lane) % 3;
        if (kind === 0) {
          for (let k = 0; k < 10; k++) await client.query(`INSERT INTO portal.users (email, full_name) VALUES ('s@example.com', 'single')`);
          users += 10;
          written += 10;
        } else if (kind === 1) {
          await client.query(
            `INSERT INTO portal.users (email, full_name) SELECT 'm' || g || '@example.com', 'Many ' || g FROM generate_series(1, 100) g`,
          );
          users += 100;
          written += 100;
        } else {
          const from = 1 + Math.floor(Math.random() * Math.max(1, users - 100));
          const { rowCount } = await client.query(`UPDATE portal.users SET full_name = full_name || '+' WHERE id BETWEEN $1 AND $2`, [
            from,
            from + 99,
          ]);
          written += rowCount ?? 0;
        }
      }
    } finally {
      await client.end();
    }
  };
  await Promise.all([0, 1, 2, 3].map(writer));
  return written;
}

/**
 * `count` finished logs of users_to_accounts, captured `ageDays` ago, in one
 * set-based statement per million: what months of carried changes leave
 * behind (nine synced to one skipped), without carrying them.
 */
export async function seedFinishedLogs(pool: Pool, count: number, ageDays: number): Promise<void> {
  for (let from = 1; from <= count; from += 1_000_000) {
    await pool.query(
      `INSERT INTO ${LOG} (created_at, mapping, table_name, op, row_key, status, attempts, synced_at, workflow_id, dispatched_at)
       SELECT t, 'users_to_accounts', 'portal.users', 'INSERT', g::text, CASE WHEN g % 10 = 0 THEN 'skipped' ELSE 'synced' END,
              1, t, 'ferry-bench-batch-seed', t
         FROM generate_series($1::bigint, $2::bigint) g, LATERAL (SELECT now() - make_interval(days => $3::int)) d(t)`,
      [from, Math.min(from + 999_999, count), ageDays],
    );
  }
  await pool.query(`VACUUM ANALYZE ${LOG}`);
}

/** Whether any log is not final yet: one probe of the pending index. */
export async function anyPending(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query<{ any: boolean }>(`SELECT EXISTS (SELECT FROM ${LOG} WHERE status = 'pending') AS any`);
  return rows[0]!.any;
}

/** The newest log id (ids are dense within a run: nothing rolls back). */
export async function lastId(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ id: string }>(`SELECT coalesce(max(id), 0) AS id FROM ${LOG}`);
  return Number(rows[0]!.id);
}

/** The 99th percentile of capture to final status, seconds, over logs above `afterId`. */
export async function p99Seconds(pool: Pool, afterId: number): Promise<number> {
  const { rows } = await pool.query<{ p: number }>(
    `SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM synced_at - created_at))::float8 AS p FROM ${LOG} WHERE id > $1`,
    [afterId],
  );
  return rows[0]!.p;
}

/** Logs above `afterId` carried by a syncLog of their own (not in a batch). */
export async function singlesCount(pool: Pool, afterId: number): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${LOG} WHERE id > $1 AND workflow_id LIKE '%-log-%'`, [afterId]);
  return rows[0]!.n;
}

/** When the last log above `afterId` became final, as epoch milliseconds (the database's clock, the same machine's). */
export async function lastFinishedAt(pool: Pool, afterId: number): Promise<number> {
  const { rows } = await pool.query<{ t: number }>(`SELECT extract(epoch FROM max(synced_at))::float8 * 1000 AS t FROM ${LOG} WHERE id > $1`, [
    afterId,
  ]);
  return rows[0]!.t;
}

/** Logs per second between the 60th and the 90th percentile of carried logs above `afterId`: the rate late in the run. */
export async function lateRate(pool: Pool, afterId: number): Promise<number> {
  const { rows } = await pool.query<{ n: number; s: number }>(
    `SELECT n, extract(epoch FROM p[2] - p[1])::float8 AS s
       FROM (SELECT count(*)::int AS n, percentile_disc(ARRAY[0.6, 0.9]) WITHIN GROUP (ORDER BY synced_at) AS p FROM ${LOG} WHERE id > $1) x`,
    [afterId],
  );
  const { n, s } = rows[0]!;
  return s > 0 ? (0.3 * n) / s : NaN;
}
