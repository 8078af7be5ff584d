import type { MissingParent, WaitLink } from '../src/contract/index.js';
import type { FerryConfig, Mapping, Row } from '../src/config.js';
import { lockIdentity, logTable, optionalWaits, pausedMappings, type LogRow, type PgClient } from '../src/db/index.js';
import { selectRowStatement } from '../src/statements.js';
import { checkSourceUnchanged, type SeenSource } from './conflict.js';
import { readPendingChanges, readSource, type SourceState } from './lookup.js';
import { recarryOptionalWaiters } from './optional-waits.js';
import { lockParentWaits } from './parent-waits.js';
import { deleteTarget, linkTarget, markOwnWrite, upsertTarget } from './upsert.js';

/**
 * How carry() reads and writes the rows around one change. The rules live in
 * the Carry of carry.ts alone; this decides only how its bookkeeping
 * reaches Postgres: one statement per step for a single sync (singleRowIO),
 * or served from a batch's set-based statements and written back in a few
 * (batch-io.ts, for syncBatch and backfill). Carry reaches Postgres through
 * this alone.
 */
export interface CarryIO {
  /** The newest pending log of a source row, before its lock: a hint that a log is superseded. */
  newestPending(mapping: string, rowKey: string): Promise<number | null>;
  /** Whether a mapping is paused (`ferry pause`): its logs wait, also when a child would pull them in. */
  isPaused(mapping: string): Promise<boolean>;
  /** A transaction-scoped advisory lock on a row identity (tableRowName). */
  lock(identity: string, shared?: boolean): Promise<void>;
  /** A pair's target row, locked before its conflict is judged (conflict.ts, otherSide): at once, also in a batch. */
  lockBeforeJudging(identity: string): Promise<void>;
  /** The source row now and its newest pending log, in one snapshot, under the row's lock. */
  readSource(mapping: Mapping, rowKey: string): Promise<SourceState>;
  /** The row with this key in a table, as jsonb, or undefined. */
  selectRow(table: string, keyColumn: string, key: unknown): Promise<Row | undefined>;
  /** A row's pending changes on a mapping, oldest first, each with its row after (logTable.pendingChanges): a pair's other side. */
  pendingChanges(mapping: Mapping, rowKey: string): Promise<logTable.PendingChange[]>;
  /** The carried log's own final status (logTable.finish); a batch writes it with the row's other writes. */
  markFinal(logId: number, outcome: logTable.FinalOutcome): Promise<void>;
  /**
   * The row's pending logs older than `below` become skipped, superseded by
   * it. Returns those it covers, in id order; a batch knows the earliest
   * only (what its prefetch read), which is what carry() needs of them.
   */
  supersedeOlder(mapping: string, rowKey: string, below: number, workflowId?: string): Promise<logTable.FinishedLog[]>;
  /** Logs other than the carried one made final at once, also in a batch (a conflict's losers, a loop's rows); returns those it changed. */
  finishOthers(ids: readonly number[], outcome: logTable.FinalOutcome): Promise<number[]>;
  /** Waiting for a parent, where this lane can (a single sync); undefined: a log that must wait leaves for its own syncLog. */
  readonly waits?: ParentWaits;
  /** logTable.inheritBefore: a log that covers older ones takes the earliest's before-image. */
  inheritBefore(logId: number, earliest: Pick<LogRow, 'op' | 'old_row'>): Promise<void>;
  /** Two-way pairs: throws (retryable) when the source row changed since it was read (conflict.ts). */
  checkSourceUnchanged(mapping: Mapping, read: SeenSource): Promise<void>;
  markOwnWrite(originTables: string[]): Promise<void>;
  /** Rows changed, or undefined when the write is deferred and not known yet. */
  upsert(mapping: Mapping, row: Row): Promise<number | undefined>;
  deleteTarget(mapping: Mapping, key: unknown): Promise<number>;
  linkTarget(mapping: Mapping, row: Row, sourceKey: string): Promise<unknown>;
  /** The logs waiting for this row as their parent, to wake; a batch collects the rows and returns them from its flush. */
  waitersOf(mapping: string, rowKey: string): Promise<number[]>;
  /** Replaces the optional parents a row of `mapping` was written without (optional-waits.ts). */
  recordOptionalWaits(mapping: Mapping, waits: optionalWaits.OptionalWaits): Promise<void>;
  /** A row of `mapping` reached its target: the children written without it are carried again (optional-waits.ts). */
  recarryOptionalWaiters(mapping: Mapping, rowKey: string): Promise<void>;
}

/** How a lane that can wait for a parent records the wait. */
export interface ParentWaits {
  /**
   * The chain of waits up from a missing parent (logTable.waitChain), read
   * under the parent-waits lock held to the end of the transaction, so the
   * wait recorded next cannot miss a loop.
   */
  waitChain(parent: MissingParent): Promise<WaitLink[]>;
  /** Records that the log waits for the parent; returns its attempt count. */
  markWaiting(logId: number, parent: MissingParent, workflowId?: string): Promise<number>;
}

/** A single sync: every step is its own statement, in the sync's transaction. */
export function singleRowIO(client: PgClient, config: FerryConfig): CarryIO {
  return {
    newestPending: async (mapping, rowKey) => (await logTable.newestPending(client, mapping, [rowKey])).get(rowKey) ?? null,
    isPaused: (mapping) => pausedMappings.isPaused(client, mapping),
    lock: (identity, shared) => lockIdentity(client, identity, shared),
    lockBeforeJudging: (identity) => lockIdentity(client, identity),
    readSource: (mapping, rowKey) => readSource(client, mapping, rowKey),
    selectRow: async (table, keyColumn, key) => (await client.query<{ row: Row }>(selectRowStatement(table, keyColumn, key))).rows[0]?.row,
    pendingChanges: (mapping, rowKey) => readPendingChanges(client, mapping, rowKey),
    markFinal: async (logId, outcome) => void (await logTable.finish(client, { ids: [logId] }, outcome)),
    supersedeOlder: (mapping, rowKey, below, workflowId) =>
      logTable.finish(client, { mapping, rowKey, below }, { status: 'skipped', supersededBy: below, workflowId }),
    finishOthers: (ids, outcome) => finishOthers(client, ids, outcome),
    waits: {
      waitChain: async (parent) => {
        await lockParentWaits(client);
        return logTable.waitChain(client, parent.mapping, parent.key);
      },
      markWaiting: (logId, parent, workflowId) => logTable.markWaiting(client, logId, parent, workflowId),
    },
    inheritBefore: (logId, earliest) => logTable.inheritBefore(client, [{ id: logId, earliest }]),
    checkSourceUnchanged: async (mapping, read) => {
      const now = await client.query<{ row: Row }>(selectRowStatement(mapping.source.table, mapping.source.key, read.rowKey));
      checkSourceUnchanged(mapping, read, now.rows[0]?.row);
    },
    markOwnWrite: (tables) => markOwnWrite(client, tables),
    upsert: (mapping, row) => upsertTarget(client, mapping, row),
    deleteTarget: (mapping, key) => deleteTarget(client, mapping, key),
    linkTarget: (mapping, row, sourceKey) => linkTarget(client, mapping, row, sourceKey),
    waitersOf: (mapping, rowKey) => logTable.waitersOf(client, mapping, [rowKey]),
    recordOptionalWaits: (mapping, waits) => optionalWaits.replaceOptionalWaits(client, mapping.name, [waits]),
    recarryOptionalWaiters: async (mapping, rowKey) => void (await recarryOptionalWaiters(client, config, mapping, [rowKey])),
  };
}

/** CarryIO.finishOthers, the same on both lanes. */
export async function finishOthers(client: PgClient, ids: readonly number[], outcome: logTable.FinalOutcome): Promise<number[]> {
  return (await logTable.finish(client, { ids }, outcome)).map((l) => l.id);
}
