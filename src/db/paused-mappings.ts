// Every statement on ferry.paused_mappings (sql/010). Pausing is a row here;
// the claim statements skip a paused mapping's logs through notPaused().
import type { Queryable } from './pool.js';

const PAUSED = 'ferry.paused_mappings';

/**
 * The condition the dispatcher's claims add so a paused mapping's logs stay
 * pending: `mapping` is the SQL that names the mapping in that statement (a
 * column, or a parameter where the statement walks one mapping, which keeps
 * the check a one-time filter instead of a join with every log).
 */
export function notPaused(mapping: string): string {
  return `NOT EXISTS (SELECT 1 FROM ${PAUSED} p WHERE p.mapping = ${mapping})`;
}

/** Whether a mapping is paused: a child then waits for its parent instead of carrying the parent's log itself. */
export async function isPaused(db: Queryable, mapping: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM ${PAUSED} WHERE mapping = $1`, [mapping]);
  return rows.length > 0;
}

export interface PausedMapping {
  mapping: string;
  pausedAt: Date;
  pausedBy: string;
}

/** Pauses these mappings; returns those that were not paused before. */
export async function pause(db: Queryable, mappings: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ mapping: string }>(
    `INSERT INTO ${PAUSED} (mapping) SELECT unnest($1::text[]) ON CONFLICT (mapping) DO NOTHING RETURNING mapping`,
    [mappings],
  );
  return rows.map((r) => r.mapping);
}

/** Resumes these mappings; returns those that were paused. */
export async function resume(db: Queryable, mappings: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ mapping: string }>(`DELETE FROM ${PAUSED} WHERE mapping = ANY($1::text[]) RETURNING mapping`, [mappings]);
  return rows.map((r) => r.mapping);
}

/** The paused mappings; none before `ferry migrate` made the table. */
export async function listPaused(db: Queryable): Promise<PausedMapping[]> {
  const { rows } = await db
    .query<{ mapping: string; paused_at: Date; paused_by: string }>(`SELECT mapping, paused_at, paused_by FROM ${PAUSED} ORDER BY mapping`)
    .catch((err: { code?: string }) => {
      if (err.code === '42P01') return { rows: [] };
      throw err;
    });
  return rows.map((r) => ({ mapping: r.mapping, pausedAt: r.paused_at, pausedBy: r.paused_by }));
}
