// The capture's rules for one committed transaction read from the slot: the
// log rows a trigger would have written for it (src/statements.ts,
// captureBody), in the same order within each mapping. Pure: no I/O.
import type { TriggerMapping } from '../../statements.js';
import type { RelationColumn, TupleValue } from './pgoutput.js';

export interface Relation {
  id: number;
  /** Canonical 'schema.table' (src/table-name.ts). */
  table: string;
  columns: RelationColumn[];
}

export interface RowChange {
  relation: Relation;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  old: TupleValue[] | null;
  new: TupleValue[] | null;
  /** Tables Ferry's own write copied values from (its transactional 'ferry.origin' message), or null. */
  origin: string[] | null;
}

export interface LogEntry {
  mapping: string;
  table: string;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  rowKey: string;
  /** The row before (UPDATE, DELETE): values in `relation.columns` order, turned into jsonb by Postgres. */
  image: TupleValue[] | null;
  relation: Relation;
}

const text = (v: TupleValue | undefined): string | null => (typeof v === 'string' ? v : null);

/** A new image's "unchanged TOAST" values taken from the old image. */
function filled(old: TupleValue[] | null, next: TupleValue[]): TupleValue[] {
  return next.map((v, i) => (v !== null && typeof v === 'object' ? (old?.[i] ?? v) : v));
}

function sameRow(old: TupleValue[], next: TupleValue[]): boolean {
  return old.length === next.length && old.every((v, i) => v === next[i]);
}

/**
 * The log entries of one change, for every mapping that reads its table:
 * an UPDATE that leaves the row as it was logs nothing; a NULL key is outside
 * the mapping; a key change logs a DELETE of the old key, then an UPDATE
 * (INSERT when the old key was NULL) of the new; a mapping whose target is
 * in the change's origin logs nothing (echo suppression).
 */
export function logEntries(change: RowChange, mappings: TriggerMapping[]): LogEntry[] {
  const { relation, origin } = change;
  const next = change.new ? filled(change.old, change.new) : null;
  if (change.op === 'UPDATE' && change.old && next && sameRow(change.old, next)) return [];
  const entries: LogEntry[] = [];
  for (const m of mappings) {
    if (origin?.includes(m.target)) continue;
    const k = relation.columns.findIndex((c) => c.name === m.key);
    const oldKey = change.old ? text(change.old[k]) : null;
    const newKey = next ? text(next[k]) : null;
    const entry = (op: LogEntry['op'], rowKey: string | null, image: TupleValue[] | null) => {
      if (rowKey !== null) entries.push({ mapping: m.name, table: relation.table, op, rowKey, image, relation });
    };
    if (change.op === 'INSERT') entry('INSERT', newKey, null);
    else if (change.op === 'DELETE') entry('DELETE', oldKey, change.old);
    else if (!change.old) {
      // No old image (the table lost REPLICA IDENTITY FULL): the key is taken as unchanged.
      entry('UPDATE', newKey, null);
    } else {
      if (oldKey !== newKey) entry('DELETE', oldKey, change.old);
      if (oldKey === null) entry('INSERT', newKey, null);
      else entry('UPDATE', newKey, change.old);
    }
  }
  return entries;
}
