// The log table's row (sql/001_log_table.sql and later), and reading one.
import type { FinalStatus } from '../../contract/index.js';
import type { Queryable } from '../pool.js';
import { LOG } from './sql.js';

export type LogStatus = 'pending' | FinalStatus;
export type LogOp = 'INSERT' | 'UPDATE' | 'DELETE';
export type JsonRow = Record<string, unknown>;

/** A row of the log table (sql/001_log_table.sql). */
export interface LogRow {
  id: number;
  created_at: Date;
  txid: number;
  mapping: string;
  /** Schema-qualified source table. */
  table_name: string;
  op: LogOp;
  /** The source row's key, as text. */
  row_key: string;
  old_row: JsonRow | null;
  new_row: JsonRow | null;
  status: LogStatus;
  attempts: number;
  error: string | null;
  synced_at: Date | null;
  /** The workflow that carried (or carries) the log. */
  workflow_id: string | null;
  dispatched_at: Date | null;
  /** The dispatcher (owner id, see src/dispatch/claims.ts) that claimed it last. */
  claimed_by: number | null;
  superseded_by: number | null;
  waiting_mapping: string | null;
  waiting_key: string | null;
  /** 'change' (a trigger captured it) or 'backfill' (written by `ferry backfill` for a row that exists; sql/005). */
  kind: 'change' | 'backfill';
  /** Why Ferry logged this change itself (a second pass), else null (sql/004). */
  reason: string | null;
}

/** The log row, or undefined. `lock`: FOR UPDATE, so two runs for one log cannot interleave. */
export async function findLog(db: Queryable, id: number, opts: { lock?: boolean } = {}): Promise<LogRow | undefined> {
  const { rows } = await db.query<LogRow>(`SELECT * FROM ${LOG} WHERE id = $1${opts.lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0];
}
