import type { Pool } from '../src/db/index.js';

/** The newest log id now: a phase's logs are those above it. */
export async function lastLogId(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ id: number }>(`SELECT coalesce(max(id), 0) AS id FROM ferry.database_trigger_log`);
  return rows[0]!.id;
}

/** Polls until `count` logs above `afterId` exist and none of them is pending. */
export async function waitSettled(pool: Pool, afterId: number, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ total: number; pending: number }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'pending')::int AS pending
         FROM ferry.database_trigger_log WHERE id > $1`,
      [afterId],
    );
    const { total, pending } = rows[0]!;
    if (total >= count && pending === 0) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${total}/${count} logs captured, ${pending} pending`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface PhaseLogs {
  /** synced_at - created_at per log, milliseconds. */
  latencies: number[];
  /** Seconds from the first capture to the last sync. */
  spanSec: number;
  statuses: Record<string, number>;
}

export async function phaseLogs(pool: Pool, afterId: number, mapping: string): Promise<PhaseLogs> {
  const { rows } = await pool.query<{ status: string; lat: number; created: number; synced: number }>(
    `SELECT status,
            extract(epoch FROM synced_at - created_at) * 1000 AS lat,
            extract(epoch FROM created_at) AS created, extract(epoch FROM synced_at) AS synced
       FROM ferry.database_trigger_log WHERE id > $1 AND mapping = $2`,
    [afterId, mapping],
  );
  const statuses: Record<string, number> = {};
  for (const r of rows) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const created = Math.min(...rows.map((r) => Number(r.created)));
  const synced = Math.max(...rows.map((r) => Number(r.synced)));
  return { latencies: rows.map((r) => Number(r.lat)), spanSec: synced - created, statuses };
}
