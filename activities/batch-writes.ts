import type { FerryConfig, Mapping, Row } from '../src/config.js';
import { logTable, optionalWaits, type LogRow, type PgClient } from '../src/db/index.js';
import type { HeldLocks } from './batch-locks.js';
import { movedSince } from './batch-source.js';
import { checkSourceUnchanged, type SeenSource } from './conflict.js';
import { recarryOptionalWaiters } from './optional-waits.js';
import { upsertTarget, upsertTargets } from './upsert.js';

type FinishEach = Parameters<typeof logTable.finishEach>[1][number];

/** What one carried row asks to write; kept apart until the row is done, so a row that leaves writes nothing. */
export interface RowWrites {
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

export function emptyWrites(): RowWrites {
  return { marks: [], covers: [], targetLocks: [], unchanged: [], upserts: [], waiters: [], inherits: [], optionalWaits: [], recarries: [] };
}

/** What the flush asks of its batch: its own markOwnWrite (which remembers the origin it marked), and the version of each source row it read. */
export interface FlushContext {
  markOwnWrite: (originTables: string[]) => Promise<void>;
  versionOf: (rowKey: string) => string | null;
}

/**
 * Writes back what a batch's finished rows asked for, a few statements for
 * all of them; returns the logs waiting for those rows.
 */
export async function flushBatch(
  client: PgClient,
  config: FerryConfig,
  mapping: Mapping,
  locks: HeldLocks,
  all: RowWrites[],
  { markOwnWrite, versionOf }: FlushContext,
): Promise<number[]> {
  await locks.take(
    all.flatMap((w) => w.targetLocks),
    false,
  );
  const unchanged = all.flatMap((w) => w.unchanged);
  // Only the rows whose version moved since the batch read them are read again, and judged.
  const moved = await movedSince(
    client,
    mapping.source.table,
    mapping.source.key,
    new Map(unchanged.map((u) => [u.rowKey, { row: u.seen, version: versionOf(u.rowKey) }])),
  );
  for (const read of unchanged) if (moved.rows.has(read.rowKey)) checkSourceUnchanged(mapping, read, moved.rows.get(read.rowKey)!.row ?? undefined);
  await upsertAll(
    client,
    mapping,
    markOwnWrite,
    all.flatMap((w) => w.upserts),
  );
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
  if (recarries.length) await recarryOptionalWaiters(client, config, mapping, recarries);
  const waited = all.flatMap((w) => w.waiters);
  return waited.length ? logTable.waitersOf(client, mapping.name, waited) : [];
}

/** One statement per set of columns; a target key written twice goes one by one, as a sync does. */
async function upsertAll(client: PgClient, mapping: Mapping, markOwnWrite: (originTables: string[]) => Promise<void>, rows: Row[]): Promise<void> {
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
  await markOwnWrite([mapping.source.table]);
  for (const [columns, group] of groups) await upsertTargets(client, mapping, columns.split('\u0000'), group);
  for (const row of single) await upsertTarget(client, mapping, row);
}
