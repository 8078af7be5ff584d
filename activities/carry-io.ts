import type { MissingParent, WaitLink } from '../src/contract/index.js';
import type { FerryConfig, Mapping, Row } from '../src/config.js';
import { lockIdentity, logTable, optionalWaits, type LogRow, type PgClient } from '../src/db/index.js';
import { selectRowStatement } from '../src/statements.js';
import { checkSourceUnchanged } from './conflict.js';
import { readSource, type SourceState } from './lookup.js';
import { recarryOptionalWaiters } from './optional-waits.js';
import { lockParentWaits } from './parent-waits.js';
import { deleteTarget, linkTarget, markOwnWrite, upsertTarget } from './upsert.js';

/**
 * How carry() reads and writes the rows around one change. The rules live in
 * the Carry of apply-change.ts alone; this decides only how its bookkeeping
 * reaches Postgres: one statement per step for a single sync (singleRowIO),
 * or served from a chunk's set-based statements and written back in a few
 * (chunk-io.ts, for syncBatch and backfill).
 */
export interface CarryIO {
  readonly client: PgClient;
  /** The newest pending log of a source row, before its lock: a hint that a log is superseded. */
  newestPending(mapping: string, rowKey: string): Promise<number | null>;
  /** A transaction-scoped advisory lock on a row identity (rowIdentity). */
  lock(identity: string, shared?: boolean): Promise<void>;
  /** A pair's target row, locked before its conflict is judged (conflict.ts, otherSide): at once, also in a chunk. */
  lockBeforeJudging(identity: string): Promise<void>;
  /** The source row now and its newest pending log, in one snapshot, under the row's lock. */
  readSource(mapping: Mapping, rowKey: string): Promise<SourceState>;
  /** The row with this key in a table, as jsonb, or undefined. */
  selectRow(table: string, keyColumn: string, key: unknown): Promise<Row | undefined>;
  /** logTable.finish: a final status for these logs; returns the logs it changed, in id order. */
  finish(where: logTable.LogSet, outcome: logTable.Finish): Promise<logTable.FinishedLog[]>;
  /**
   * The chain of waits up from a missing parent (logTable.waitChain), read
   * under the parent-waits lock held to the end of the transaction, so the
   * wait recorded next cannot miss a loop.
   */
  waitChain(parent: MissingParent): Promise<WaitLink[]>;
  markWaiting(logId: number, parent: MissingParent, workflowId?: string): Promise<number>;
  /** logTable.inheritBefore: a log that covers older ones takes the earliest's before-image. */
  inheritBefore(logId: number, earliest: Pick<LogRow, 'op' | 'old_row'>): Promise<void>;
  /** Two-way pairs: throws (retryable) when the source row changed since it was read. */
  checkSourceUnchanged(mapping: Mapping, reverse: Mapping | undefined, rowKey: string, seen: Row): Promise<void>;
  markOwnWrite(originTables: string[]): Promise<void>;
  /** Rows changed, or undefined when the write is deferred and not known yet. */
  upsert(mapping: Mapping, row: Row): Promise<number | undefined>;
  deleteTarget(mapping: Mapping, key: unknown): Promise<number>;
  linkTarget(mapping: Mapping, row: Row, sourceKey: string): Promise<unknown>;
  waitersOf(mapping: string, rowKey: string): Promise<number[]>;
  /** Replaces the optional parents a row of `mapping` was written without (optional-waits.ts). */
  recordOptionalWaits(mapping: Mapping, waits: optionalWaits.OptionalWaits): Promise<void>;
  /** A row of `mapping` reached its target: the children written without it are carried again (optional-waits.ts). */
  recarryOptionalWaiters(mapping: Mapping, rowKey: string): Promise<void>;
}

/** A single sync: every step is its own statement, in the sync's transaction. */
export function singleRowIO(client: PgClient, config: FerryConfig): CarryIO {
  return {
    client,
    newestPending: async (mapping, rowKey) => (await logTable.newestPending(client, mapping, [rowKey])).get(rowKey) ?? null,
    lock: (identity, shared) => lockIdentity(client, identity, shared),
    lockBeforeJudging: (identity) => lockIdentity(client, identity),
    readSource: (mapping, rowKey) => readSource(client, mapping, rowKey),
    selectRow: async (table, keyColumn, key) => (await client.query<{ row: Row }>(selectRowStatement(table, keyColumn, key))).rows[0]?.row,
    finish: (where, outcome) => logTable.finish(client, where, outcome),
    waitChain: async (parent) => {
      await lockParentWaits(client);
      return logTable.waitChain(client, parent.mapping, parent.key);
    },
    inheritBefore: (logId, earliest) => logTable.inheritBefore(client, [{ id: logId, earliest }]),
    markWaiting: (logId, parent, workflowId) => logTable.markWaiting(client, logId, parent, workflowId),
    checkSourceUnchanged: (mapping, reverse, rowKey, seen) => checkSourceUnchanged(client, mapping, reverse, rowKey, seen),
    markOwnWrite: (tables) => markOwnWrite(client, tables),
    upsert: (mapping, row) => upsertTarget(client, mapping, row),
    deleteTarget: (mapping, key) => deleteTarget(client, mapping, key),
    linkTarget: (mapping, row, sourceKey) => linkTarget(client, mapping, row, sourceKey),
    waitersOf: (mapping, rowKey) => logTable.waitersOf(client, mapping, [rowKey]),
    recordOptionalWaits: (mapping, waits) => optionalWaits.replaceOptionalWaits(client, mapping.name, [waits]),
    recarryOptionalWaiters: async (mapping, rowKey) => void (await recarryOptionalWaiters(client, config, mapping, [rowKey])),
  };
}
