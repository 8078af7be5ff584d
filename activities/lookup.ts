import type { MissingParent } from '../src/contract/index.js';
import type { FerryConfig, Mapping, Row } from '../src/config.js';
import { logTable, tableRowName, type LogRow, type PgClient } from '../src/db/index.js';
import type { CarryIO } from './carry-io.js';
import { selectRowStatement } from '../src/statements.js';
import { parseTable } from '../src/table-name.js';
import { parentRefsOf, type ParentRef } from './parent-refs.js';
import { asDataFailure } from './upsert.js';

export interface SourceState {
  /** The source row as it is now, or null when it is gone. */
  row: Row | null;
  /** The newest pending log of the same source row. */
  newestPending: number | null;
}

/**
 * The current source row and the newest pending log for it, read in one
 * statement (one snapshot), so "newest" is exactly what the row reflects.
 */
export async function readSource(client: PgClient, mapping: Mapping, rowKey: string): Promise<SourceState> {
  const select = selectRowStatement(mapping.source.table, mapping.source.key, rowKey);
  try {
    const { row, newest } = await logTable.readWithNewestPending(client, select, mapping.name, rowKey);
    return { row, newestPending: newest };
  } catch (err) {
    // A source table dropped or altered under Ferry, or a key no row can have.
    throw asDataFailure(err, `reading ${mapping.source.table} ${mapping.source.key} = ${JSON.stringify(rowKey)} for ${mapping.name}`);
  }
}

/**
 * A row's pending changes on a mapping, each with the row as it was after it
 * (logTable.pendingChanges); after the newest, the row as it is now.
 */
export function readPendingChanges(client: PgClient, mapping: Mapping, rowKey: string): Promise<logTable.PendingChange[]> {
  const current = selectRowStatement(mapping.source.table, mapping.source.key, undefined).text;
  return logTable.pendingChanges(client, mapping.name, rowKey, current);
}

/** Longest source key a log may carry: longer than any key a btree index accepts (about 2,700 bytes). */
export const MAX_ROW_KEY_BYTES = 4096;
/** Largest row image a log may carry, as JSON text. */
export const MAX_ROW_IMAGE_BYTES = 16 * 1024 * 1024;

/**
 * What makes a log row unfit to carry for its mapping (written by hand or by
 * a role that should not have), or undefined when it is fine. Checked before
 * anything is read or written with Ferry's rights.
 */
export function logProblem(log: LogRow, mapping: Mapping): string | undefined {
  const malformed = (what: string) => `log ${log.id} is malformed: ${what}`;
  const source = parseTable(mapping.source.table)!;
  // The capture writes schema || '.' || table unquoted; Ferry's own logs (backfill, second pass) the config's text.
  if (log.table_name !== mapping.source.table && log.table_name !== `${source.schema}.${source.name}`)
    return malformed(`table ${log.table_name} is not the source of mapping ${mapping.name} (${mapping.source.table})`);
  if (!['INSERT', 'UPDATE', 'DELETE'].includes(log.op)) return malformed(`op ${JSON.stringify(log.op)} is not INSERT, UPDATE or DELETE`);
  if (Buffer.byteLength(log.row_key) > MAX_ROW_KEY_BYTES) return malformed(`row_key is longer than ${MAX_ROW_KEY_BYTES} bytes`);
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  for (const column of ['old_row', 'new_row'] as const) {
    const k = kind(log[column]);
    if (k !== 'null' && k !== 'object') return malformed(`${column} is a JSON ${k}, not a row object`);
    if (k === 'object' && Buffer.byteLength(JSON.stringify(log[column])) > MAX_ROW_IMAGE_BYTES)
      return malformed(`${column} is larger than ${MAX_ROW_IMAGE_BYTES} bytes`);
  }
  return undefined;
}

export type ParentLookup = { parents: Record<string, Row>; absent: ParentRef[]; missing?: undefined } | { missing: MissingParent };

/**
 * Each parent's row in its mapping's target. A shared lock on the parent's
 * target identity orders this check against the parent's own upsert, so a
 * parent that lands right now either is seen here or sees this child waiting.
 * A required parent that is missing stops the look-up; an optional one is
 * listed in `absent` (the child is written without it, and again later).
 */
export async function lookupParents(io: CarryIO, config: FerryConfig, mapping: Mapping, row: Row): Promise<ParentLookup> {
  const parents: Record<string, Row> = {};
  const absent: ParentRef[] = [];
  for (const ref of parentRefsOf(config, mapping, row)) {
    const { parent, key } = ref;
    await io.lock(tableRowName(parent.target.table, parent.target.key, key), true);
    const found = await io.selectRow(parent.target.table, parent.target.key, key);
    if (found) {
      parents[ref.column] = found;
      continue;
    }
    if (ref.optional) {
      absent.push(ref);
      continue;
    }
    // A paused parent's log is not carried early by its child: the child waits, as for a parent with no log.
    const pending = (await io.isPaused(parent.name)) ? null : await io.newestPending(parent.name, key);
    return { missing: { mapping: parent.name, table: parent.source.table, column: ref.column, key, logId: pending } };
  }
  return { parents, absent };
}
