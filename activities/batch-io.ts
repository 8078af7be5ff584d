import type { FerryConfig, Mapping, Row } from '../src/config.js';
import { logTable, optionalWaits, pausedMappings, tableRowName, type LogRow, type PgClient } from '../src/db/index.js';
import { selectRowsStatement } from '../src/statements.js';
import { HeldLocks } from './batch-locks.js';
import { prefetchBatch, type Prefetched } from './batch-prefetch.js';
import type { SourceRead } from './batch-source.js';
import { emptyWrites, flushBatch, type RowWrites } from './batch-writes.js';
import { finishOthers, type CarryIO } from './carry-io.js';
import type { SeenSource } from './conflict.js';
import { readPendingChanges } from './lookup.js';
import { deleteTarget, linkTarget, markOwnWrite } from './upsert.js';

/**
 * The set-based CarryIO of a batch: the logs of one mapping are read in a few
 * statements up front (row locks, source rows, pending logs, parents), carry()
 * runs on that, and what it writes is written back per batch (one upsert, one
 * statement for marks, one for superseded logs, one for waiters). Writes the
 * batch cannot defer (link, delete, a conflict's loser) go straight through.
 */
export class BatchIO implements CarryIO {
  private readonly locks: HeldLocks;
  private cache = new Map<string, Row | null>();
  private source = new Map<string, Prefetched>();
  private readonly writes: RowWrites[] = [];
  private current: RowWrites = emptyWrites();
  private origin: string | undefined;

  constructor(
    private readonly client: PgClient,
    private readonly config: FerryConfig,
    private readonly mapping: Mapping,
  ) {
    this.locks = new HeldLocks(client);
  }

  /** Locks and reads the rows of these logs, their parents and likely targets (batch-prefetch.ts); `seen`: rows read before. */
  async prefetch(logs: LogRow[], seen: (key: string) => SourceRead | undefined): Promise<void> {
    const reads = await prefetchBatch(this.client, this.config, this.mapping, this.locks, logs, seen);
    this.source = reads.source;
    this.cache = reads.cache;
  }

  /** Starts a row's writes; `keep` says whether the previous row's stay (it finished) or go (it left the batch). */
  nextRow(keep: boolean): void {
    if (keep) this.writes.push(this.current);
    this.current = emptyWrites();
  }

  /** Writes back what the finished rows asked for (batch-writes.ts); returns the logs waiting for those rows. */
  flush(): Promise<number[]> {
    return flushBatch(this.client, this.config, this.mapping, this.locks, this.writes, {
      markOwnWrite: (tables) => this.markOwnWrite(tables),
      versionOf: (rowKey) => this.prefetched(rowKey).version,
    });
  }

  /** Of this batch's rows, as read with it; of another row (a missing parent), read now. */
  async newestPending(mapping: string, rowKey: string): Promise<number | null> {
    const read = mapping === this.mapping.name ? this.source.get(rowKey) : undefined;
    if (read) return read.newest;
    return (await logTable.newestPending(this.client, mapping, [rowKey])).get(rowKey) ?? null;
  }

  async isPaused(mapping: string): Promise<boolean> {
    return pausedMappings.isPaused(this.client, mapping);
  }

  async lock(identity: string, shared = false): Promise<void> {
    if (this.locks.has(identity, shared)) return;
    // A target row's lock waits for the flush, which takes them all in one order.
    if (!shared) this.current.targetLocks.push(identity);
    else await this.locks.take([identity], true);
  }

  async lockBeforeJudging(identity: string): Promise<void> {
    await this.locks.take([identity], false);
  }

  async readSource(_mapping: Mapping, rowKey: string) {
    const { row, newest } = this.prefetched(rowKey);
    return { row, newestPending: newest };
  }

  async selectRow(table: string, keyColumn: string, key: unknown): Promise<Row | undefined> {
    const identity = tableRowName(table, keyColumn, key);
    if (this.cache.has(identity)) return this.cache.get(identity) ?? undefined;
    const { rows } = await this.client.query<{ key: string; row: Row }>(selectRowsStatement(table, keyColumn, [String(key)]));
    return rows[0]?.row;
  }

  async pendingChanges(mapping: Mapping, rowKey: string): Promise<logTable.PendingChange[]> {
    return readPendingChanges(this.client, mapping, rowKey);
  }

  /** Deferred to the flush with the row's other writes. */
  async markFinal(id: number, outcome: logTable.FinalOutcome): Promise<void> {
    this.current.marks.push({
      id,
      status: outcome.status,
      error: outcome.error ?? null,
      supersededBy: outcome.supersededBy ?? null,
      countAttempt: outcome.countAttempt !== false,
      workflowId: outcome.workflowId ?? null,
    });
  }

  /**
   * Deferred to the flush; the earliest of the row's older changes comes from
   * what was read with the batch, under the row's lock. None older then: none
   * to cover (one that commits later, with a lower id, is carried on its own).
   */
  async supersedeOlder(_mapping: string, rowKey: string, below: number, workflowId?: string): Promise<logTable.FinishedLog[]> {
    const oldest = this.prefetched(rowKey).oldest;
    if (!oldest || oldest.id >= below) return [];
    this.current.covers.push({ rowKey, below, workflowId });
    return [oldest];
  }

  /** At once: they are other logs (another mapping's, a conflict's losers), not this row's writes. */
  async finishOthers(ids: readonly number[], outcome: logTable.FinalOutcome): Promise<number[]> {
    return finishOthers(this.client, ids, outcome);
  }

  /** Deferred with the row's writes: a row that leaves the batch changes no log. */
  async inheritBefore(id: number, earliest: Pick<LogRow, 'op' | 'old_row'>): Promise<void> {
    this.current.inherits.push({ id, earliest });
  }

  /** Deferred to the flush: one read for the batch's rows. */
  async checkSourceUnchanged(_mapping: Mapping, read: SeenSource): Promise<void> {
    this.current.unchanged.push(read);
  }

  async markOwnWrite(originTables: string[]): Promise<void> {
    const origin = originTables.join(',');
    if (origin === this.origin) return;
    await markOwnWrite(this.client, originTables);
    this.origin = origin;
  }

  async upsert(_mapping: Mapping, row: Row): Promise<number | undefined> {
    this.current.upserts.push(row);
    return undefined;
  }

  async waitersOf(_mapping: string, rowKey: string): Promise<number[]> {
    this.current.waiters.push(rowKey);
    return [];
  }

  /** Deferred with the row's writes, then one statement per batch. */
  async recordOptionalWaits(_mapping: Mapping, waits: optionalWaits.OptionalWaits): Promise<void> {
    this.current.optionalWaits.push(waits);
  }

  /** Deferred with the row's writes: after the batch's upserts and waits. */
  async recarryOptionalWaiters(_mapping: Mapping, rowKey: string): Promise<void> {
    this.current.recarries.push(rowKey);
  }

  async deleteTarget(mapping: Mapping, key: unknown): Promise<number> {
    await this.locks.take(this.current.targetLocks.splice(0), false);
    this.cache.delete(tableRowName(mapping.target.table, mapping.target.key, key));
    return deleteTarget(this.client, mapping, key);
  }

  async linkTarget(mapping: Mapping, row: Row, sourceKey: string): Promise<unknown> {
    this.origin = undefined; // linking marks its own origin
    return linkTarget(this.client, mapping, row, sourceKey);
  }

  private prefetched(rowKey: string): Prefetched {
    const p = this.source.get(rowKey);
    if (!p) throw new Error(`row ${rowKey} of ${this.mapping.name} was not read with its batch`);
    return p;
  }
}
