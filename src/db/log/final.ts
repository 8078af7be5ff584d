// Making pending logs final (synced, skipped, failed): one SET list, a
// single form and its set forms.
import type { FinalStatus } from '../../contract/index.js';
import type { Queryable } from '../pool.js';
import type { LogRow } from './row.js';
import { LOG } from './sql.js';

/** Which pending logs a state change applies to. */
export type LogSet =
  | { ids: readonly number[] }
  /** A row's pending logs older than `below`: the changes a newer one carries. */
  | { mapping: string; rowKey: string; below: number };

export interface FinalOutcome {
  status: FinalStatus;
  error?: string | null;
  /** For skipped: the log that carried a newer state, or won a conflict. */
  supersededBy?: number | null;
  /** The workflow that carried it; unchanged when undefined. */
  workflowId?: string;
  /** Whether this counts as an attempt (default yes; a parent that never came counted its own). */
  countAttempt?: boolean;
}

export type FinishedLog = Pick<LogRow, 'id' | 'op' | 'old_row'>;

/**
 * The SET list (of `UPDATE ${LOG} l`) that makes a pending log final, given
 * the SQL of each value: the one statement of the rule, for finish,
 * finishEach and supersedeBelow. A final log waits for nothing.
 */
function finalSet(v: { status: string; error: string; supersededBy: string; attempt: string; workflowId: string }): string {
  return (
    `status = ${v.status}, error = ${v.error}, superseded_by = ${v.supersededBy}, attempts = l.attempts + ${v.attempt}, ` +
    `synced_at = now(), workflow_id = coalesce(${v.workflowId}, l.workflow_id), waiting_mapping = NULL, waiting_key = NULL`
  );
}

/**
 * Gives pending logs their final status and clears the waiting columns:
 * marking, superseding, conflict loss and failure all go through here.
 * Returns the logs it changed, in id order.
 */
export async function finish(db: Queryable, where: LogSet, outcome: FinalOutcome): Promise<FinishedLog[]> {
  const values: unknown[] = [
    outcome.status,
    outcome.error ?? null,
    outcome.supersededBy ?? null,
    outcome.countAttempt === false ? 0 : 1,
    outcome.workflowId ?? null,
  ];
  let match: string;
  if ('ids' in where) {
    values.push(where.ids);
    match = `id = ANY($6::bigint[])`;
  } else {
    values.push(where.mapping, where.rowKey, where.below);
    match = `mapping = $6 AND row_key = $7 AND id < $8`;
  }
  const { rows } = await db.query<FinishedLog>(
    `UPDATE ${LOG} l
        SET ${finalSet({ status: '$1', error: '$2', supersededBy: '$3', attempt: '$4::int', workflowId: '$5' })}
      WHERE ${match} AND l.status = 'pending'
      RETURNING id, op, old_row`,
    values,
  );
  return rows.sort((a, b) => a.id - b.id);
}

/** finish() for many logs at once, each with its own outcome (a batch's chunk writes back in one statement). */
export async function finishEach(
  db: Queryable,
  logs: readonly {
    id: number;
    status: FinalStatus;
    error: string | null;
    supersededBy: number | null;
    countAttempt: boolean;
    workflowId: string | null;
  }[],
): Promise<void> {
  if (!logs.length) return;
  await db.query(
    `UPDATE ${LOG} l
        SET ${finalSet({ status: 'f.status', error: 'f.error', supersededBy: 'f.superseded_by', attempt: 'f.attempt', workflowId: 'f.workflow_id' })}
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::int[], $6::text[])
            AS f(id, status, error, superseded_by, attempt, workflow_id)
      WHERE l.id = f.id AND l.status = 'pending'`,
    [
      logs.map((l) => l.id),
      logs.map((l) => l.status),
      logs.map((l) => l.error),
      logs.map((l) => l.supersededBy),
      logs.map((l) => (l.countAttempt ? 1 : 0)),
      logs.map((l) => l.workflowId),
    ],
  );
}

/** finish() of { mapping, rowKey, below } for many rows: each row's older pending logs, skipped, superseded by its carrier. */
export async function supersedeBelow(
  db: Queryable,
  mapping: string,
  rows: readonly { rowKey: string; below: number }[],
  workflowId?: string,
): Promise<void> {
  if (!rows.length) return;
  await db.query(
    `UPDATE ${LOG} l
        SET ${finalSet({ status: `'skipped'`, error: 'NULL', supersededBy: 'c.below', attempt: '1', workflowId: '$4' })}
       FROM unnest($2::text[], $3::bigint[]) AS c(row_key, below)
      WHERE l.mapping = $1 AND l.row_key = c.row_key AND l.status = 'pending' AND l.id < c.below`,
    [mapping, rows.map((r) => r.rowKey), rows.map((r) => r.below), workflowId ?? null],
  );
}
