import type { Row } from '../src/config.js';
import type { PgClient } from '../src/db/index.js';
import { selectRowVersionsStatement, selectRowsStatement } from '../src/statements.js';

/** A source row as a batch read it: the row and its version, or null for both when there was none. */
export interface SourceRead {
  row: Row | null;
  version: string | null;
}

/** What a batch read of a table's rows: by key, every key asked for; `shared`: some key named more than one row. */
export interface SourceReads {
  rows: Map<string, SourceRead>;
  shared: boolean;
}

/**
 * A batch reads each source row once: in full, with its version, here; later
 * (under the row's lock, or when a pair checks that it is unchanged) only the
 * versions, and in full again only the rows whose version moved.
 */
export async function readSourceRows(client: PgClient, table: string, key: string, keys: string[]): Promise<SourceReads> {
  const rows = new Map<string, SourceRead>(keys.map((k) => [k, { row: null, version: null }]));
  if (!keys.length) return { rows, shared: false };
  const read = await client.query<{ key: string; row: Row; version: string }>(selectRowsStatement(table, key, keys, { version: true }));
  for (const r of read.rows) rows.set(r.key, { row: r.row, version: r.version });
  return { rows, shared: new Set(read.rows.map((r) => r.key)).size < read.rows.length };
}

/**
 * Of rows read before, those that are not as they were read (written since,
 * gone, or there now), read again in full: the others are the same row
 * version. `shared` as in readSourceRows: a key two rows share counts as moved.
 */
export async function movedSince(client: PgClient, table: string, key: string, seen: Map<string, SourceRead>): Promise<SourceReads> {
  if (!seen.size) return { rows: new Map(), shared: false };
  const { rows } = await client.query<{ key: string; version: string }>(selectRowVersionsStatement(table, key, [...seen.keys()]));
  const now = new Map<string, string | null>();
  const moved = new Set<string>();
  for (const r of rows) {
    if (now.has(r.key)) moved.add(r.key);
    now.set(r.key, r.version);
  }
  for (const [k, read] of seen) if ((now.get(k) ?? null) !== read.version) moved.add(k);
  return readSourceRows(client, table, key, [...moved]);
}
