import { ApplicationFailure } from '@temporalio/activity';
import { TARGET_WRITE_ERROR } from '../src/contract/index.js';
import type { FerryConfig, Mapping, Row } from '../src/config.js';
import { mappingByName, reverseOf } from '../src/config.js';
import { logTable, tableRowName, type LogRow, type PgClient } from '../src/db/index.js';
import { selectRowsStatement } from '../src/statements.js';
import type { HeldLocks } from './batch-locks.js';
import { movedSince, readSourceRows, type SourceRead } from './batch-source.js';
import { parentRefsOf } from './parent-refs.js';
import { callTransforms } from './transform.js';

/** A batch's row as read with it: the source row and its version, its newest pending change, its oldest pending log. */
export interface Prefetched extends SourceRead {
  newest: number | null;
  oldest: logTable.FinishedLog | undefined;
}

/** What a batch reads up front: its source rows by key, and parent and target rows by tableRowName (null: none). */
export interface BatchReads {
  source: Map<string, Prefetched>;
  cache: Map<string, Row | null>;
}

/**
 * Locks every row of these logs of one mapping (in one order, so batches never
 * deadlock each other), then reads them, their pending logs, their parents and
 * a pair's target rows they will likely write, in a few statements. `seen`: the
 * rows of this mapping the batch read before (carry-batch.ts, gather), which
 * are read again only when their version moved.
 */
export async function prefetchBatch(
  client: PgClient,
  config: FerryConfig,
  mapping: Mapping,
  locks: HeldLocks,
  logs: LogRow[],
  seen: (key: string) => SourceRead | undefined,
): Promise<BatchReads> {
  const reads: BatchReads = { source: new Map(), cache: new Map() };
  const keys = [...new Set(logs.map((l) => l.row_key))];
  await locks.take(
    keys.map((k) => tableRowName(mapping.source.table, mapping.source.key, k)),
    false,
  );
  const before = new Map(keys.flatMap((k) => (seen(k) ? [[k, seen(k)!] as const] : [])));
  const { table, key: column } = mapping.source;
  const fresh = await readSourceRows(
    client,
    table,
    column,
    keys.filter((k) => !before.has(k)),
  );
  const moved = await movedSince(client, table, column, before);
  // A key two rows share: one row at a time, each such log fails as in a single sync (SQLSTATE 21000).
  if (fresh.shared || moved.shared) throw ApplicationFailure.nonRetryable(`${table} has more than one row with one ${column}`, TARGET_WRITE_ERROR);
  const byKey = new Map([...before, ...fresh.rows, ...moved.rows]);
  const pending = await logTable.pendingEnds(client, mapping.name, keys);
  for (const key of keys) {
    const ends = pending.get(key);
    reads.source.set(key, { ...byKey.get(key)!, newest: ends?.newest ?? null, oldest: ends?.oldest });
  }
  // The parents these rows name, column by column in the mapping's order (the order their locks are taken).
  const named = new Map(mapping.parents.map((p) => [p.column, { parent: mappingByName(config, p.mapping)!, keys: new Set<string>() }]));
  for (const { row } of byKey.values()) for (const ref of row ? parentRefsOf(config, mapping, row) : []) named.get(ref.column)!.keys.add(ref.key);
  for (const { parent, keys: wanted } of named.values()) {
    const parentKeys = [...wanted];
    if (!parentKeys.length) continue;
    await locks.take(
      parentKeys.map((k) => tableRowName(parent.target.table, parent.target.key, k)),
      true,
    );
    const found = await client.query<{ key: string; row: Row }>(selectRowsStatement(parent.target.table, parent.target.key, parentKeys));
    const byParent = new Map(found.rows.map((r) => [r.key, r.row]));
    for (const k of parentKeys) reads.cache.set(tableRowName(parent.target.table, parent.target.key, k), byParent.get(k) ?? null);
  }
  await prefetchTargets(client, config, mapping, locks, logs, reads);
  return reads;
}

/**
 * A pair's target rows these changes will likely write, locked and read at
 * once: its conflict check looks at them (conflict.ts, otherSide), and
 * nothing else reads a target row before writing it. Their keys come from
 * calling the transform ahead of carry(), which a transform allows (it must
 * be pure); a guess that misses only costs carry() a read of its own.
 */
async function prefetchTargets(
  client: PgClient,
  config: FerryConfig,
  mapping: Mapping,
  locks: HeldLocks,
  logs: LogRow[],
  reads: BatchReads,
): Promise<void> {
  if (!reverseOf(config.mappings, mapping)) return;
  const keys = new Set<string>();
  const calls = [];
  for (const log of logs) {
    const row = reads.source.get(log.row_key)?.row ?? log.old_row;
    if (!row) continue;
    const parents: Record<string, Row> = {};
    for (const { parent, column, key } of parentRefsOf(config, mapping, row)) {
      const found = reads.cache.get(tableRowName(parent.target.table, parent.target.key, key));
      if (found) parents[column] = found;
    }
    calls.push({ row, ctx: { op: log.op, logId: log.id, mapping: mapping.name, parents } });
  }
  // One message to a transform thread for the chunk; a throw here is left to carry(), which calls it again and fails the row.
  for (const settled of await callTransforms(mapping, calls)) {
    const key = 'out' in settled ? (settled.out as Row | null)?.[mapping.target.key] : undefined;
    if (key !== null && key !== undefined) keys.add(String(key));
  }
  if (!keys.size) return;
  // Read under their locks, taken before conflicts are judged (conflict.ts, otherSide).
  await locks.take(
    [...keys].map((k) => tableRowName(mapping.target.table, mapping.target.key, k)),
    false,
  );
  const { rows } = await client.query<{ key: string; row: Row }>(selectRowsStatement(mapping.target.table, mapping.target.key, [...keys]));
  const byKey = new Map(rows.map((r) => [r.key, r.row]));
  for (const k of keys) reads.cache.set(tableRowName(mapping.target.table, mapping.target.key, k), byKey.get(k) ?? null);
}
