import { isDeepStrictEqual } from 'node:util';
import type { FerryConfig, Mapping, Row } from '../src/config.js';
import { mappingByName } from '../src/config.js';
import { rowIdentity, type Client } from '../src/db.js';
import { selectRowsStatement, upsertManyStatement } from '../src/statements.js';
import { sourceChanged, type CarryIO } from './carry-io.js';
import { pendingLogOf, type LogRow } from './lookup.js';
import type { CoveredChange, MarkFields } from './mark.js';
import type { FinalStatus } from './types.js';
import { callTransform } from './transform.js';
import { deleteTarget, linkTarget, markOwnWrite, upsertTarget, writeTarget } from './upsert.js';

interface Prefetched {
  row: Row | null;
  newest: number | null;
  oldest: CoveredChange | undefined;
}

/** What one carried row asks to write; kept apart until the row is done, so a row that leaves writes nothing. */
interface RowWrites {
  marks: { id: number; status: FinalStatus; error: string | null; supersededBy: number | null }[];
  covers: { carrier: number; rowKey: string }[];
  targetLocks: string[];
  unchanged: { rowKey: string; seen: Row }[];
  upserts: Row[];
  waiters: string[];
}

const LOCK_MANY = (fn: string) => `SELECT count(${fn}(hashtextextended(i, 0))) FROM unnest($1::text[]) AS i`;

/**
 * The set-based CarryIO of a chunk: the logs of one mapping are read in a few
 * statements up front (row locks, source rows, pending logs, parents), carry()
 * runs on that, and what it writes is written back per chunk (one upsert, one
 * statement for marks, one for superseded logs, one for waiters). Writes the
 * chunk cannot defer (link, delete, a conflict's loser) go straight through.
 */
export class ChunkIO implements CarryIO {
  private readonly held = new Set<string>();
  private readonly cache = new Map<string, Row | null>();
  private readonly source = new Map<string, Prefetched>();
  private readonly writes: RowWrites[] = [];
  private current: RowWrites = emptyWrites();
  private origin: string | undefined;

  constructor(
    readonly client: Client,
    private readonly config: FerryConfig,
    private readonly mapping: Mapping,
  ) {}

  /** Locks every row of these logs (in one order, so chunks never deadlock each other), then reads them and their parents. */
  async prefetch(logs: LogRow[]): Promise<void> {
    const { mapping } = this;
    const keys = [...new Set(logs.map((l) => l.row_key))];
    await this.lockMany(keys.map((k) => rowIdentity(mapping.source.table, mapping.source.key, k)), false);
    const rows = await this.client.query<{ key: string; row: Row }>(selectRowsStatement(mapping.source.table, mapping.source.key, keys));
    const byKey = new Map(rows.rows.map((r) => [r.key, r.row]));
    const pending = await this.client.query<{ row_key: string; newest: number; id: number; op: CoveredChange['op']; old_row: Row | null }>(
      `SELECT p.row_key, p.newest, o.id, o.op, o.old_row
         FROM (SELECT row_key, max(id) AS newest, min(id) AS oldest FROM ferry.database_trigger_log
                WHERE mapping = $1 AND row_key = ANY($2::text[]) AND status = 'pending' GROUP BY row_key) p
         JOIN ferry.database_trigger_log o ON o.id = p.oldest`,
      [mapping.name, keys],
    );
    const byPending = new Map(pending.rows.map((p) => [p.row_key, p]));
    for (const key of keys) {
      const p = byPending.get(key);
      this.source.set(key, {
        row: byKey.get(key) ?? null,
        newest: p?.newest ?? null,
        oldest: p && { id: p.id, op: p.op, old_row: p.old_row },
      });
    }
    for (const ref of mapping.parents) {
      const parent = mappingByName(this.config, ref.mapping)!;
      const parentKeys = [...new Set([...byKey.values()].map((r) => r[ref.column]).filter((v) => v !== null && v !== undefined).map(String))];
      if (!parentKeys.length) continue;
      await this.lockMany(parentKeys.map((k) => rowIdentity(parent.target.table, parent.target.key, k)), true);
      const found = await this.client.query<{ key: string; row: Row }>(selectRowsStatement(parent.target.table, parent.target.key, parentKeys));
      const byParent = new Map(found.rows.map((r) => [r.key, r.row]));
      for (const k of parentKeys) this.cache.set(rowIdentity(parent.target.table, parent.target.key, k), byParent.get(k) ?? null);
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
      for (const ref of mapping.parents) {
        const parent = mappingByName(this.config, ref.mapping)!;
        const found = this.cache.get(rowIdentity(parent.target.table, parent.target.key, String(row[ref.column])));
        if (found) parents[ref.column] = found;
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
    const { rows } = await this.client.query<{ key: string; row: Row }>(selectRowsStatement(mapping.target.table, mapping.target.key, [...keys]));
    const byKey = new Map(rows.map((r) => [r.key, r.row]));
    for (const k of keys) this.cache.set(rowIdentity(mapping.target.table, mapping.target.key, k), byKey.get(k) ?? null);
  }

  /** Starts a row's writes; `keep` says whether the previous row's stay (it finished) or go (it left the chunk). */
  nextRow(keep: boolean): void {
    if (keep) this.writes.push(this.current);
    this.current = emptyWrites();
  }

  /** Writes back what the finished rows asked for; returns the logs waiting for those rows. */
  async flush(): Promise<number[]> {
    const all = this.writes;
    const { client, mapping } = this;
    await this.lockMany(all.flatMap((w) => w.targetLocks), false);
    const unchanged = all.flatMap((w) => w.unchanged);
    if (unchanged.length) {
      const now = await client.query<{ key: string; row: Row }>(
        selectRowsStatement(mapping.source.table, mapping.source.key, unchanged.map((u) => u.rowKey)),
      );
      const byKey = new Map(now.rows.map((r) => [r.key, r.row]));
      const stale = unchanged.find((u) => !isDeepStrictEqual(byKey.get(u.rowKey), u.seen));
      if (stale) throw sourceChanged(mapping, stale.rowKey);
    }
    await this.upsertAll(all.flatMap((w) => w.upserts));
    const marks = all.flatMap((w) => w.marks);
    if (marks.length) {
      await client.query(
        `UPDATE ferry.database_trigger_log l
            SET status = m.status, error = m.error, superseded_by = m.superseded_by, attempts = l.attempts + 1,
                synced_at = now(), waiting_mapping = NULL, waiting_key = NULL
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[]) AS m(id, status, error, superseded_by)
          WHERE l.id = m.id`,
        [marks.map((m) => m.id), marks.map((m) => m.status), marks.map((m) => m.error), marks.map((m) => m.supersededBy)],
      );
    }
    const covers = all.flatMap((w) => w.covers);
    if (covers.length) {
      await client.query(
        `UPDATE ferry.database_trigger_log l
            SET status = 'skipped', superseded_by = c.carrier, attempts = l.attempts + 1, synced_at = now(),
                waiting_mapping = NULL, waiting_key = NULL
           FROM unnest($2::text[], $3::bigint[]) AS c(row_key, carrier)
          WHERE l.mapping = $1 AND l.row_key = c.row_key AND l.status = 'pending' AND l.id < c.carrier`,
        [mapping.name, covers.map((c) => c.rowKey), covers.map((c) => c.carrier)],
      );
    }
    const waited = all.flatMap((w) => w.waiters);
    if (!waited.length) return [];
    const { rows } = await client.query<{ id: number }>(
      `SELECT id FROM ferry.database_trigger_log
        WHERE waiting_mapping = $1 AND waiting_key = ANY($2::text[]) AND status = 'pending' ORDER BY id`,
      [mapping.name, waited],
    );
    return rows.map((r) => r.id);
  }

  async newestPending(_mapping: Mapping, rowKey: string): Promise<number | null> {
    return this.prefetched(rowKey).newest;
  }

  async lock(identity: string, shared = false): Promise<void> {
    if (this.held.has(identity) || (shared && this.held.has(`${identity}|shared`))) return;
    // A target row's lock waits for the flush, which takes them all in one order.
    if (!shared) this.current.targetLocks.push(identity);
    else await this.lockMany([identity], true);
  }

  async readSource(_mapping: Mapping, rowKey: string) {
    const { row, newest } = this.prefetched(rowKey);
    return { row, newestPending: newest };
  }

  async selectRow(table: string, keyColumn: string, key: unknown): Promise<Row | undefined> {
    const identity = rowIdentity(table, keyColumn, key);
    if (this.cache.has(identity)) return this.cache.get(identity) ?? undefined;
    const { rows } = await this.client.query<{ key: string; row: Row }>(selectRowsStatement(table, keyColumn, [String(key)]));
    return rows[0]?.row;
  }

  pendingLogOf(mapping: string, rowKey: string): Promise<number | null> {
    return pendingLogOf(this.client, mapping, rowKey);
  }

  async coverOlder(logId: number, _mapping: string, rowKey: string): Promise<CoveredChange | undefined> {
    this.current.covers.push({ carrier: logId, rowKey });
    const oldest = this.prefetched(rowKey).oldest;
    return oldest && oldest.id < logId ? oldest : undefined;
  }

  async mark(logId: number, status: FinalStatus, fields: MarkFields = {}): Promise<void> {
    this.current.marks.push({ id: logId, status, error: fields.error ?? null, supersededBy: fields.supersededBy ?? null });
  }

  /** A row that waits for its parent leaves the chunk for its own syncLog, which records the wait. */
  async markWaiting(): Promise<number> {
    return 0;
  }

  async checkSourceUnchanged(_mapping: Mapping, rowKey: string, seen: Row): Promise<void> {
    this.current.unchanged.push({ rowKey, seen });
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

  async deleteTarget(mapping: Mapping, key: unknown): Promise<number> {
    await this.lockMany(this.current.targetLocks.splice(0), false);
    this.cache.delete(rowIdentity(mapping.target.table, mapping.target.key, key));
    return deleteTarget(this.client, mapping, key);
  }

  async linkTarget(mapping: Mapping, row: Row, sourceKey: string): Promise<unknown> {
    this.origin = undefined; // linking marks its own origin
    return linkTarget(this.client, mapping, row, sourceKey);
  }

  private prefetched(rowKey: string): Prefetched {
    const p = this.source.get(rowKey);
    if (!p) throw new Error(`row ${rowKey} of ${this.mapping.name} was not read with its chunk`);
    return p;
  }

  private async lockMany(identities: string[], shared: boolean): Promise<void> {
    const todo = [...new Set(identities)].filter((i) => !this.held.has(i) && !(shared && this.held.has(`${i}|shared`))).sort();
    if (!todo.length) return;
    await this.client.query(LOCK_MANY(shared ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock'), [todo]);
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
      groups.set(columns, [...(groups.get(columns) ?? []), row]);
    }
    if (!rows.length) return;
    await this.markOwnWrite([mapping.source.table]);
    for (const [columns, group] of groups) {
      await writeTarget(client, mapping, upsertManyStatement(mapping.target.table, mapping.target.key, columns.split('\u0000'), group));
    }
    for (const row of single) await upsertTarget(client, mapping, row);
  }
}

function emptyWrites(): RowWrites {
  return { marks: [], covers: [], targetLocks: [], unchanged: [], upserts: [], waiters: [] };
}
