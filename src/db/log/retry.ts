// `ferry retry --failed`: failed logs found and made pending again.
import type { Queryable } from '../pool.js';
import { LOG } from './sql.js';

/** The failed logs (of one mapping), for `retry --failed`. */
export async function failedIds(db: Queryable, mapping?: string): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT id FROM ${LOG} WHERE status = 'failed' AND ($1::text IS NULL OR mapping = $1) ORDER BY id`,
    [mapping ?? null],
  );
  return rows.map((r) => r.id);
}

/**
 * Failed logs become pending again with a clean slate, unclaimed: the caller
 * starts their workflows, and a dispatcher that gets there first is no harm
 * (one workflow id, one run). Returns the ids it reset.
 */
export async function resetFailed(db: Queryable, ids: readonly number[]): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `UPDATE ${LOG} SET status = 'pending', error = NULL, attempts = 0, synced_at = NULL, dispatched_at = NULL, claimed_by = NULL
      WHERE id = ANY($1::bigint[]) AND status = 'failed' RETURNING id`,
    [ids],
  );
  return rows.map((r) => r.id);
}
