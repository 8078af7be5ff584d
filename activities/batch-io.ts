import { ApplicationFailure } from '@temporalio/activity';
import { TARGET_WRITE_ERROR } from '../src/contract/index.js';
import type { FerryConfig, Mapping, Row } from '../src/config.js';
import { mappingByName, reverseOf } from '../src/config.js';
import { lockIdentities, logTable, optionalWaits, pausedMappings, tableRowName, type LogRow, type PgClient } from '../src/db/index.js';
import { selectRowsStatement } from '../src/statements.js';
import { finishOthers, type CarryIO } from './carry-io.js';
import { checkSourceUnchanged, type SeenSource } from './conflict.js';
import { recarryOptionalWaiters } from './optional-waits.js';
import { readPendingChanges } from './lookup.js';
import { parentRefsOf } from './parent-refs.js';
import { callTransform } from './transform.js';
import { deleteTarget, linkTarget, markOwnWrite, upsertTarget, upsertTargets } from './upsert.js';

type FinishedLog = logTable.FinishedLog;
type FinishEach = Parameters<typeof logTable.finishEach>[1][number];

interface Prefetched {
  row: Row | null;
  newest: number | null;
  oldest: FinishedLog | undefined;
}

/** What one carried row asks to write; kept apart until the row is done, so a row that leaves writes nothing. */
interface RowWrites {
  marks: FinishEach[];
  covers: { rowKey: string; below: number; workflowId?: string }[];
  targetLocks: string[];
  unchanged: SeenSource[];
  upserts: Row[];
  waiters: string[];
  inherits: { id: number; earliest: Pick<LogRow, 'op' | 'old_row'> }[];
  optionalWaits: optionalWaits.OptionalWaits[];
  /** Rows now in their target whose optional children are carried again. */
  recarries: string[];
}

/**
 * The set-based CarryIO of a batch: the logs of one mapping are read in a few
 * statements up front (row locks, source rows, pending logs, parents), carry()
 * runs on that, and what it writes is written back per batch (one upsert, one
 * statement for marks, one for superseded logs, one for waiters). Writes the
 * batch cannot defer (link, delete, a conflict's loser) go straight through.
 */
export class BatchIO implements CarryIO {
  private readonly held = new Set<string>();
  private readonly cache = new Map<string, Row | null>();
  private readonly source = new Map<string, Prefetched>();
  private readonly writes: RowWrites[] = [];
  private current: RowWrites = emptyWrites();
  private origin: string | undefined;

  constructor(
    private readonly client: PgClient,
    private readonly config: FerryConfig,
    private readonly mapping: Mapping,
  ) {}

  /** Locks every row of these logs (in one order, so batches never deadlock each other), then reads them and their parents. */
  async prefetch(logs: LogRow[]): Promise<void> {
    const { mapping } = this;
    const keys = [...new Set(logs.map((l) => l.row_key))];
    await this.lockMany(
      keys.map((k) => tableRowName(mapping.source.table, mapping.source.key, k)),
      false,
    );
    const rows = await this.client.query<{ key: string; row: Row }>(selectRowsStatement(mapping.source.table, mapping.source.key, keys));
    const byKey = new Map(rows.rows.map((r) => [r.key, r.row]));
    // A key two rows share: one row at a time, each such log fails as in a single sync (SQLSTATE 21000).
    if (byKey.size < rows.rows.length)
      throw ApplicationFailure.nonRetryable(`${mapping.source.table} has more than one row with one ${mapping.source.key}`, TARGET_WRITE_ERROR);
    const pending = await logTable.pendingEnds(this.client, mapping.name, keys);
    for (const key of keys) {
      const ends = pending.get(key);
      this.source.set(key, { row: byKey.get(key) ?? null, newest: ends?.newest ?? null, oldest: ends?.oldest });
    }
    // The parents these rows name, column by column in the mapping's order (the order their locks are taken).
    const named = new Map(mapping.parents.map((p) => [p.column, { parent: mappingByName(this.config, p.mapping)!, keys: new Set<string>() }]));
    for (const row of byKey.values()) for (const ref of parentRefsOf(this.config, mapping, row)) named.get(ref.column)!.keys.add(ref.key);
    for (const { parent, keys: wanted } of named.values()) {
      const parentKeys = [...wanted];
      if (!parentKeys.length) continue;
      await this.lockMany(
        parentKeys.map((k) => tableRowName(parent.target.table, parent.target.key, k)),
        true,
      );
      const found = await this.client.query<{ key: string; row: Row }>(selectRowsStatement(parent.target.table, parent.target.key, parentKeys));
      const byParent = new Map(found.rows.map((r) => [r.key, r.row]));
      for (const k of parentKeys) this.cache.set(tableRowName(parent.target.table, parent.target.key, k), byParent.get(k) ?? null);
    }
    await this.prefetchTargets(logs);
  }

  /**
   * The target rows these changes will likely write, read at once (a pair's
   * conflict check looks at them). Their keys come from calling the transform
   * ahead of carry(), which a transform allows (it must be pure); a guess
   * that misses only costs carry() a read of its own.
   */
  private async prefetchTargets(logs: LogRow[]): Promise<void> {
    const { mapping } = this;
    const keys = new Set<string>();
    for (const log of logs) {
      const row = this.source.get(log.row_key)?.row ?? log.old_row;
      if (!row) continue;
      const parents: Record<string, Row> = {};
      for (const { parent, column, key } of parentRefsOf(this.config, mapping, row)) {
        const found = this.cache.get(tableRowName(parent.target.table, parent.target.key, key));
        if (found) parents[column] = found;
      }
      try {
        const out = await callTransform(mapping, row, { op: log.op, logId: log.id, mapping: mapping.name, parents });
        const key = (out as Row | null)?.[mapping.target.key];
        if (key !== null && key !== undefined) keys.add(String(key));
      } catch {
        // carry() calls it again and fails the row with the message
      }
    }
    if (!keys.size) return;
    // A pair's target rows are read under their locks, taken before conflicts are judged (conflict.ts, otherSide).
    if (reverseOf(this.config.mappings, mapping))
      await this.lockMany(
        [...keys].map((k) => tableRowName(mapping.target.table, mapping.target.key, k)),
        false,
      );
    const { rows } = await this.client.query<{ key: string; row: Row }>(selectRowsStatement(mapping.target.table, mapping.target.key, [...keys]));
    const byKey = new Map(rows.map((r) => [r.key, r.row]));
    for (const k of keys) this.cache.set(tableRowName(mapping.target.table, mapping.target.key, k), byKey.get(k) ?? null);
  }

  /** Starts a row's writes; `keep` says whether the previous row's stay (it finished) or go (it left the batch). */
  nextRow(keep: boolean): void {
    if (keep) this.writes.push(this.current);
    this.current = emptyWrites();
  }

  /** Writes back what the finished rows asked for; returns the logs waiting for those rows. */
  async flush(): Promise<number[]> {
    const all = this.writes;
    const { client, mapping } = this;
    await this.lockMany(
      all.flatMap((w) => w.targetLocks),
      false,
    );
    const unchanged = all.flatMap((w) => w.unchanged);
    if (unchanged.length) {
      const now = await client.query<{ key: string; row: Row }>(
        selectRowsStatement(
          mapping.source.table,
          mapping.source.key,
          unchanged.map((u) => u.rowKey),
        ),
      );
      const byKey = new Map(now.rows.map((r) => [r.key, r.row]));
      for (const read of unchanged) checkSourceUnchanged(mapping, read, byKey.get(read.rowKey));
    }
    await this.upsertAll(all.flatMap((w) => w.upserts));
    await logTable.finishEach(
      client,
      all.flatMap((w) => w.marks),
    );
    await logTable.inheritBefore(
      client,
      all.flatMap((w) => w.inherits),
    );
    const covers = all.flatMap((w) => w.covers);
    await logTable.supersedeBelow(client, mapping.name, covers, covers[0]?.workflowId);
    // The waits first: a row of this batch written without a parent that this
    // batch also wrote is then found by that parent's recarry, and carried again.
    await optionalWaits.replaceOptionalWaits(
      client,
      mapping.name,
      all.flatMap((w) => w.optionalWaits),
    );
    const recarries = all.flatMap((w) => w.recarries);
    if (recarries.length) await recarryOptionalWaiters(client, this.config, mapping, recarries);
    const waited = all.flatMap((w) => w.waiters);
    return waited.length ? logTable.waitersOf(client, mapping.name, waited) : [];
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
    if (this.held.has(identity) || (shared && this.held.has(`${identity}|shared`))) return;
    // A target row's lock waits for the flush, which takes them all in one order.
    if (!shared) this.current.targetLocks.push(identity);
    else await this.lockMany([identity], true);
  }

  async lockBeforeJudging(identity: string): Promise<void> {
    await this.lockMany([identity], false);
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

  /** Deferred to the flush; the earliest of the row's older changes comes from what was read with the batch. */
  async supersedeOlder(_mapping: string, rowKey: string, below: number, workflowId?: string): Promise<FinishedLog[]> {
    this.current.covers.push({ rowKey, below, workflowId });
    const oldest = this.prefetched(rowKey).oldest;
    return oldest && oldest.id < below ? [oldest] : [];
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
    await this.lockMany(this.current.targetLocks.splice(0), false);
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

  private async lockMany(identities: string[], shared: boolean): Promise<void> {
    const todo = [...new Set(identities)].filter((i) => !this.held.has(i) && !(shared && this.held.has(`${i}|shared`)));
    await lockIdentities(this.client, todo, shared);
    for (const i of todo) this.held.add(shared ? `${i}|shared` : i);
  }

  /** One statement per set of columns; a target key written twice goes one by one, as a sync does. */
  private async upsertAll(rows: Row[]): Promise<void> {
    const { client, mapping } = this;
    const groups = new Map<string, Row[]>();
    const single: Row[] = [];
    const seenKeys = new Set<string>();
    for (const row of rows) {
      const key = String(row[mapping.target.key]);
      if (seenKeys.has(key)) {
        single.push(row);
        continue;
      }
      seenKeys.add(key);
      const columns = Object.keys(row).join('\u0000');
      // Appended in place: copying the group per row was quadratic garbage (a
      // 1000-row batch made ~4 MiB of it, the largest allocator in a backfill).
      const group = groups.get(columns);
      if (group) group.push(row);
      else groups.set(columns, [row]);
    }
    if (!rows.length) return;
    await this.markOwnWrite([mapping.source.table]);
    for (const [columns, group] of groups) await upsertTargets(client, mapping, columns.split('\u0000'), group);
    for (const row of single) await upsertTarget(client, mapping, row);
  }
}

function emptyWrites(): RowWrites {
  return { marks: [], covers: [], targetLocks: [], unchanged: [], upserts: [], waiters: [], inherits: [], optionalWaits: [], recarries: [] };
}
