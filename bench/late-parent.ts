import pg from 'pg';
import type { Pool } from '../src/db/index.js';
import { lastLogId, waitSettled } from './logs.js';
import { percentile } from './stats.js';

export interface LateParentResult {
  pairs: number;
  p50: number;
  p95: number;
  max: number;
  statuses: Record<string, number>;
}

type Pair = { orderId: number; userId: number };

/**
 * Parent arrives after the child: an order for a user that does not exist
 * yet, then (once the order's workflow waits for its parent) the user.
 * Latency: parent's capture -> child synced.
 */
export function runLateParent(pool: Pool, url: string, pairs: number, firstUserId: number) {
  return runPairs(pool, url, pairs, firstUserId, async (c, userId) => {
    const orderId = await insertOrder(c, userId);
    await waitUntilWaiting(pool, orderId);
    await insertUser(c, userId);
    return { orderId, userId };
  });
}

/** Child first, parent second, in one transaction. Latency: commit -> child synced. */
export function runChildFirstInOneTransaction(pool: Pool, url: string, pairs: number, firstUserId: number) {
  return runPairs(pool, url, pairs, firstUserId, async (c, userId) => {
    await c.query('BEGIN');
    const orderId = await insertOrder(c, userId);
    await insertUser(c, userId);
    await c.query('COMMIT');
    return { orderId, userId };
  });
}

async function runPairs(
  pool: Pool,
  url: string,
  pairs: number,
  firstUserId: number,
  one: (c: pg.Client, userId: number) => Promise<Pair>,
  lanes = 5,
): Promise<LateParentResult> {
  const after = await lastLogId(pool);
  const done: Pair[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      const c = new pg.Client({ connectionString: url, application_name: 'ferry-bench-parents' });
      await c.connect();
      try {
        for (let i = next++; i < pairs; i = next++) done.push(await one(c, firstUserId + i));
      } finally {
        await c.end();
      }
    }),
  );
  await waitSettled(pool, after, pairs * 2, 120_000);
  // The child's sync against the parent's capture (for one transaction, its last statement: the commit).
  const { rows } = await pool.query<{ lat: number; status: string }>(
    `SELECT c.status, extract(epoch FROM c.synced_at - p.created_at) * 1000 AS lat
       FROM unnest($1::text[], $2::text[]) AS pair(order_id, user_id)
       JOIN ferry.database_trigger_log c ON c.mapping = 'orders_to_orders' AND c.row_key = pair.order_id AND c.id > $3
       JOIN ferry.database_trigger_log p ON p.mapping = 'users_to_accounts' AND p.row_key = pair.user_id AND p.id > $3`,
    [done.map((p) => String(p.orderId)), done.map((p) => String(p.userId)), after],
  );
  const statuses: Record<string, number> = {};
  for (const r of rows) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const lat = rows.map((r) => Number(r.lat));
  return { pairs: rows.length, p50: percentile(lat, 50), p95: percentile(lat, 95), max: Math.max(...lat), statuses };
}

async function insertOrder(c: pg.Client, userId: number): Promise<number> {
  const { rows } = await c.query<{ id: number }>(`INSERT INTO portal.orders (user_id, amount, status) VALUES ($1, 9.99, 'new') RETURNING id`, [
    userId,
  ]);
  return rows[0]!.id;
}

async function insertUser(c: pg.Client, userId: number): Promise<void> {
  await c.query(`INSERT INTO portal.users (id, email, full_name) VALUES ($1, $2, $3)`, [userId, `p${userId}@example.com`, `Parent ${userId}`]);
}

/** Polls until the order's workflow has found its parent missing (it now waits on a timer). */
async function waitUntilWaiting(pool: Pool, orderId: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query(
      `SELECT 1 FROM ferry.database_trigger_log
        WHERE mapping = 'orders_to_orders' AND row_key = $1 AND waiting_key IS NOT NULL`,
      [String(orderId)],
    );
    if (rows.length) return;
    if (Date.now() > deadline) throw new Error(`order ${orderId} never waited for its parent within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
