import type { Client } from '../src/db.js';
import type { FinalStatus, MissingParent } from './types.js';

export interface MarkFields {
  error?: string | null;
  supersededBy?: number | null;
}

/** Final status of a log; clears the waiting columns. */
export async function markLog(client: Client, logId: number, status: FinalStatus, fields: MarkFields = {}): Promise<void> {
  await client.query(
    `UPDATE ferry.database_trigger_log
        SET status = $2, error = $3, superseded_by = $4, attempts = attempts + 1,
            synced_at = now(), waiting_mapping = NULL, waiting_key = NULL
      WHERE id = $1`,
    [logId, status, fields.error ?? null, fields.supersededBy ?? null],
  );
}

/** Records that the log waits for a parent; returns the attempt count. */
export async function markWaiting(client: Client, logId: number, parent: MissingParent): Promise<number> {
  const { rows } = await client.query<{ attempts: number }>(
    `UPDATE ferry.database_trigger_log
        SET attempts = attempts + 1, waiting_mapping = $2, waiting_key = $3
      WHERE id = $1 RETURNING attempts`,
    [logId, parent.mapping, parent.key],
  );
  return rows[0]!.attempts;
}

/** Pending logs that wait for this mapping's row with this source key. */
export async function waitersOf(client: Client, mapping: string, rowKey: string): Promise<number[]> {
  const { rows } = await client.query<{ id: number }>(
    `SELECT id FROM ferry.database_trigger_log
      WHERE waiting_mapping = $1 AND waiting_key = $2 AND status = 'pending' ORDER BY id`,
    [mapping, rowKey],
  );
  return rows.map((r) => r.id);
}

export interface CoveredChange {
  id: number;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  old_row: Record<string, unknown> | null;
}

/**
 * The newest pending change of a row carries all older ones: they are marked
 * skipped, superseded by it. Returns the earliest change now carried (this log
 * itself when there was nothing older), whose old row is what the target still
 * reflects.
 */
export async function coverOlderChanges(client: Client, logId: number, mapping: string, rowKey: string): Promise<CoveredChange | undefined> {
  const { rows } = await client.query<CoveredChange>(
    `UPDATE ferry.database_trigger_log
        SET status = 'skipped', superseded_by = $1, attempts = attempts + 1, synced_at = now(),
            waiting_mapping = NULL, waiting_key = NULL
      WHERE mapping = $2 AND row_key = $3 AND status = 'pending' AND id < $1
      RETURNING id, op, old_row`,
    [logId, mapping, rowKey],
  );
  const earliest = rows.sort((a, b) => a.id - b.id)[0];
  // A second pass among them: what the target reflects is not known, so no old row.
  return earliest && rows.some(isSecondPass) ? { ...earliest, old_row: null } : earliest;
}

/** A change Ferry logged itself to carry a row again (an optional parent arrived): an UPDATE with no old row. */
export function isSecondPass(change: { op: string; old_row: unknown }): boolean {
  return change.op === 'UPDATE' && change.old_row === null;
}
