// ferry.backfill_runs (sql/008): the last known progress of each backfill, for `ferry status`.
import type { BackfillProgress } from '../contract/index.js';
import type { Queryable } from './pool.js';

export type BackfillRunState = BackfillProgress['state'] | 'failed';

export interface BackfillRun {
  workflowId: string;
  mapping: string;
  state: BackfillRunState;
  rowsDone: number;
  rowsTotal: number;
  rate: number;
  cursor: string | null;
  startedAt: string;
  /** Seconds since the workflow last wrote its progress. */
  ageSeconds: number;
}

/** Writes a backfill's progress (a new run of the same workflow id starts its row over). */
export async function record(db: Queryable, workflowId: string, p: BackfillProgress, state: BackfillRunState = p.state): Promise<void> {
  await db.query(
    `INSERT INTO ferry.backfill_runs AS r (workflow_id, mapping, state, rows_done, rows_total, rate, cursor, started_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
     ON CONFLICT (workflow_id) DO UPDATE SET mapping = EXCLUDED.mapping, state = EXCLUDED.state, rows_done = EXCLUDED.rows_done,
       rows_total = EXCLUDED.rows_total, rate = EXCLUDED.rate, cursor = EXCLUDED.cursor, started_at = EXCLUDED.started_at, updated_at = now()`,
    [workflowId, p.mapping, state, p.rowsDone, p.rowsTotal, p.rate, p.cursor, p.startedAt],
  );
}

/** Backfills still counting or running, oldest first. */
export async function running(db: Queryable): Promise<BackfillRun[]> {
  const { rows } = await db.query(
    `SELECT workflow_id, mapping, state, rows_done, rows_total, rate, cursor, started_at,
            extract(epoch FROM now() - updated_at)::float8 AS age
       FROM ferry.backfill_runs WHERE state IN ('counting', 'running') ORDER BY started_at`,
  );
  return rows.map((r) => ({
    workflowId: r.workflow_id,
    mapping: r.mapping,
    state: r.state,
    rowsDone: Number(r.rows_done),
    rowsTotal: Number(r.rows_total),
    rate: r.rate,
    cursor: r.cursor,
    startedAt: new Date(r.started_at).toISOString(),
    ageSeconds: r.age,
  }));
}
