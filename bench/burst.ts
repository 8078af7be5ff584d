import pg from 'pg';
import type { Pool } from '../src/db/index.js';
import { lastLogId, waitSettled } from './logs.js';

export interface BurstResult {
  updates: number;
  /** Upserts that changed salesforce.account (counted by a bench-only trigger). */
  writes: number;
  ratio: number;
  /** The target holds the last update's value. */
  converged: boolean;
  statuses: Record<string, number>;
}

/**
 * One user, synced, then `updates` single-row autocommit updates to it as
 * fast as one connection goes. The newest pending change carries the older
 * ones, so far fewer than `updates` writes should reach the target.
 */
export async function runBurst(pool: Pool, url: string, updates: number): Promise<BurstResult> {
  const before = await lastLogId(pool);
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO portal.users (email, full_name) VALUES ('burst@example.com', 'burst 0') RETURNING id`,
  );
  const id = rows[0]!.id;
  await waitSettled(pool, before, 1, 30_000);
  await pool.query(`DELETE FROM bench.account_writes WHERE portal_user_id__c = $1`, [String(id)]);

  const after = await lastLogId(pool);
  const client = new pg.Client({ connectionString: url, application_name: 'ferry-bench-burst' });
  await client.connect();
  try {
    for (let i = 1; i <= updates; i++) await client.query(`UPDATE portal.users SET full_name = $1 WHERE id = $2`, [`burst ${i}`, id]);
  } finally {
    await client.end();
  }
  await waitSettled(pool, after, updates, 120_000);

  const writes = (await pool.query<{ n: number }>(`SELECT n FROM bench.account_writes WHERE portal_user_id__c = $1`, [String(id)])).rows[0]?.n ?? 0;
  const name = (await pool.query<{ name: string }>(`SELECT name FROM salesforce.account WHERE portal_user_id__c = $1`, [String(id)])).rows[0]?.name;
  const statuses: Record<string, number> = {};
  const counted = await pool.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM ferry.database_trigger_log WHERE id > $1 GROUP BY status`,
    [after],
  );
  for (const r of counted.rows) statuses[r.status] = r.n;
  return { updates, writes, ratio: writes / updates, converged: name === `burst ${updates}`, statuses };
}
