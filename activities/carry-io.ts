import { isDeepStrictEqual } from 'node:util';
import type { Mapping, Row } from '../src/config.js';
import { lockIdentity, type Client } from '../src/db.js';
import { selectRowStatement } from '../src/statements.js';
import { newestPendingOf, pendingLogOf, readSource, type SourceState } from './lookup.js';
import { coverOlderChanges, markLog, markWaiting, waitersOf, type CoveredChange, type MarkFields } from './mark.js';
import type { FinalStatus, MissingParent } from './types.js';
import { deleteTarget, linkTarget, markOwnWrite, upsertTarget } from './upsert.js';

/**
 * How carry() reads and writes the rows around one change. The rules live in
 * carry() alone; this decides only how the bookkeeping reaches Postgres: one
 * statement per step for a single sync (singleRowIO), or served from a
 * chunk's set-based statements and written back in a few (chunk-io.ts).
 */
export interface CarryIO {
  readonly client: Client;
  /** The newest pending log of a source row, before its lock: a hint that a log is superseded. */
  newestPending(mapping: Mapping, rowKey: string): Promise<number | null>;
  /** A transaction-scoped advisory lock on a row identity (db.ts rowIdentity). */
  lock(identity: string, shared?: boolean): Promise<void>;
  /** The source row now and the newest pending log of it, in one snapshot, under the row's lock. */
  readSource(mapping: Mapping, rowKey: string): Promise<SourceState>;
  /** The row with this key in a table, as jsonb, or undefined. */
  selectRow(table: string, keyColumn: string, key: unknown): Promise<Row | undefined>;
  /** The newest pending log of a mapping's row (a parent's own change on the way). */
  pendingLogOf(mapping: string, rowKey: string): Promise<number | null>;
  /** Marks older pending changes of the row carried by this log; returns the earliest one carried. */
  coverOlder(logId: number, mapping: string, rowKey: string): Promise<CoveredChange | undefined>;
  mark(logId: number, status: FinalStatus, fields?: MarkFields): Promise<void>;
  markWaiting(logId: number, parent: MissingParent): Promise<number>;
  /** Two-way pairs: throws (retryable) when the source row changed since it was read. */
  checkSourceUnchanged(mapping: Mapping, rowKey: string, seen: Row): Promise<void>;
  markOwnWrite(originTables: string[]): Promise<void>;
  /** Rows changed, or undefined when the write is deferred and not yet known. */
  upsert(mapping: Mapping, row: Row): Promise<number | undefined>;
  waitersOf(mapping: string, rowKey: string): Promise<number[]>;
  /** onDelete on the target row with this key; rows changed. */
  deleteTarget(mapping: Mapping, key: unknown): Promise<number>;
  /** Linking: creates the counterpart and writes its key back; returns that key. */
  linkTarget(mapping: Mapping, row: Row, sourceKey: string): Promise<unknown>;
}

/** A single sync: every step is its own statement, in the sync's transaction. */
export function singleRowIO(client: Client): CarryIO {
  return {
    client,
    newestPending: (mapping, rowKey) => newestPendingOf(client, mapping, rowKey),
    lock: (identity, shared) => lockIdentity(client, identity, shared),
    readSource: (mapping, rowKey) => readSource(client, mapping, rowKey),
    async selectRow(table, keyColumn, key) {
      return (await client.query<{ row: Row }>(selectRowStatement(table, keyColumn, key))).rows[0]?.row;
    },
    pendingLogOf: (mapping, rowKey) => pendingLogOf(client, mapping, rowKey),
    coverOlder: (logId, mapping, rowKey) => coverOlderChanges(client, logId, mapping, rowKey),
    mark: (logId, status, fields) => markLog(client, logId, status, fields),
    markWaiting: (logId, parent) => markWaiting(client, logId, parent),
    async checkSourceUnchanged(mapping, rowKey, seen) {
      const now = await this.selectRow(mapping.source.table, mapping.source.key, rowKey);
      if (!isDeepStrictEqual(now, seen)) throw sourceChanged(mapping, rowKey);
    },
    markOwnWrite: (tables) => markOwnWrite(client, tables),
    upsert: (mapping, row) => upsertTarget(client, mapping, row),
    waitersOf: (mapping, rowKey) => waitersOf(client, mapping, rowKey),
    deleteTarget: (mapping, key) => deleteTarget(client, mapping, key),
    linkTarget: (mapping, row, sourceKey) => linkTarget(client, mapping, row, sourceKey),
  };
}

export function sourceChanged(mapping: Mapping, rowKey: string): Error {
  return new Error(`source row ${mapping.source.table} ${rowKey} changed while carrying it; retrying`);
}
