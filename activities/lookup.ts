import type { Client } from '../src/db.js';
import { lockIdentity, rowIdentity } from '../src/db.js';
import type { FerryConfig, Mapping, Row } from '../src/config.js';
import { mappingByName } from '../src/config.js';
import { selectRowStatement } from '../src/statements.js';
import type { MissingParent } from './types.js';
import { asDataFailure } from './upsert.js';

export interface LogRow {
  id: number;
  mapping: string;
  table_name: string;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  row_key: string;
  old_row: Row | null;
  new_row: Row | null;
  status: string;
  attempts: number;
  created_at: Date;
  /** 'change' (a trigger captured it) or 'backfill' (written by `ferry backfill` for a row that exists). */
  kind: 'change' | 'backfill';
}

/** The log row, locked for this transaction so two runs for one log cannot interleave. */
export async function loadLog(client: Client, logId: number): Promise<LogRow | undefined> {
  const { rows } = await client.query<LogRow>(
    `SELECT id, mapping, table_name, op, row_key, old_row, new_row, status, attempts, created_at, kind
       FROM ferry.database_trigger_log WHERE id = $1 FOR UPDATE`,
    [logId],
  );
  return rows[0];
}

// Only captured changes supersede: a backfill log never makes a live change step aside.
const NEWEST_PENDING = `SELECT max(id) FROM ferry.database_trigger_log
                         WHERE mapping = $2 AND row_key = $1::text AND status = 'pending' AND kind = 'change'`;

/** The newest pending captured change of a source row (no lock: a hint that this log is superseded). */
export async function newestPendingOf(client: Client, mapping: Mapping, rowKey: string): Promise<number | null> {
  const { rows } = await client.query<{ newest: number | null }>(`SELECT (${NEWEST_PENDING}) AS newest`, [rowKey, mapping.name]);
  return rows[0]!.newest;
}

export interface SourceState {
  /** The source row as it is now, or null when it is gone. */
  row: Row | null;
  /** The newest pending captured change of the same source row. */
  newestPending: number | null;
}

/**
 * The current source row and the newest pending log for it, read in one
 * statement (one snapshot), so "newest" is exactly what the row reflects.
 */
export async function readSource(client: Client, mapping: Mapping, rowKey: string): Promise<SourceState> {
  const select = selectRowStatement(mapping.source.table, mapping.source.key, rowKey);
  try {
    const { rows } = await client.query<{ row: Row | null; newest: number | null }>(
      `SELECT (${select.text}) AS row, (${NEWEST_PENDING}) AS newest`,
      [rowKey, mapping.name],
    );
    return { row: rows[0]!.row, newestPending: rows[0]!.newest };
  } catch (err) {
    // A source table dropped or altered under Ferry, or a key no row can have.
    throw asDataFailure(err, `reading ${mapping.source.table} ${mapping.source.key} = ${JSON.stringify(rowKey)} for ${mapping.name}`);
  }
}

/** What makes a log row unusable (edited by hand, say), or undefined when it is fine. */
export function logProblem(log: LogRow): string | undefined {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  for (const column of ['old_row', 'new_row'] as const) {
    const k = kind(log[column]);
    if (k !== 'null' && k !== 'object') return `log ${log.id} is malformed: ${column} is a JSON ${k}, not a row object`;
  }
  return undefined;
}

export type ParentLookup = { parents: Record<string, Row>; missing?: undefined } | { missing: MissingParent };

/**
 * Each parent's row in its mapping's target. A shared lock on the parent's
 * target identity orders this check against the parent's own upsert, so a
 * parent that lands right now either is seen here or sees this child waiting.
 */
export async function lookupParents(client: Client, config: FerryConfig, mapping: Mapping, row: Row): Promise<ParentLookup> {
  const parents: Record<string, Row> = {};
  for (const ref of mapping.parents) {
    const value = row[ref.column];
    if (value === null || value === undefined) continue; // no parent to wait for
    const parent = mappingByName(config, ref.mapping)!;
    const key = String(value);
    await lockIdentity(client, rowIdentity(parent.target.table, parent.target.key, key), true);
    const found = await client.query<{ row: Row }>(selectRowStatement(parent.target.table, parent.target.key, key));
    if (found.rows[0]) {
      parents[ref.column] = found.rows[0].row;
      continue;
    }
    const pending = await client.query<{ id: number | null }>(
      `SELECT max(id) AS id FROM ferry.database_trigger_log
        WHERE mapping = $1 AND row_key = $2 AND status = 'pending'`,
      [parent.name, key],
    );
    return {
      missing: { mapping: parent.name, table: parent.source.table, column: ref.column, key, logId: pending.rows[0]!.id },
    };
  }
  return { parents };
}
