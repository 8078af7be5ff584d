// Optional parents, two passes (the way data loaders do it): a child whose
// optional parent is not in its target yet is written without it and
// remembered; when that parent's sync completes, the child gets a new log row
// and is carried again, now with the parent.
import { channelFor } from '../src/contract/index.js';
import type { FerryConfig, Mapping } from '../src/config.js';
import { mappingByName } from '../src/config.js';
import { logTable, optionalWaits, type PgClient } from '../src/db/index.js';
import { selectRowStatement } from '../src/statements.js';
import { parseTable } from '../src/table-name.js';
import type { ParentRef } from './parent-refs.js';

/** What a row written without these optional parents waits for (replacing what it waited for before). */
export function optionalWaitsOf(rowKey: string, absent: ParentRef[]): optionalWaits.OptionalWaits {
  return { rowKey, parents: absent.map((r) => ({ mapping: r.parent.name, key: r.key })) };
}

/**
 * These parent rows (of one mapping) are in their target now: every child
 * written without one of them gets a new pending log in this transaction (and
 * the listener a wake-up in notify mode). Returns the new log ids.
 */
export async function recarryOptionalWaiters(
  client: PgClient,
  config: FerryConfig,
  parent: Mapping,
  parentKeys: readonly string[],
): Promise<number[]> {
  const logIds: number[] = [];
  const channels = new Set<string>();
  const seen = new Set<string>();
  for (const waiter of await optionalWaits.takeOptionalWaiters(client, parent.name, parentKeys)) {
    // A child that waited for two of these parents is carried again once: the pass reads its row as it is now.
    const childId = `${waiter.mapping}\u0000${waiter.row_key}`;
    if (seen.has(childId)) continue;
    seen.add(childId);
    const parentKey = waiter.parent_key;
    const child = mappingByName(config, waiter.mapping);
    if (!child) continue; // left the config: nothing carries it
    const id = await logTable.insertSecondPass(
      client,
      {
        mapping: child.name,
        table: child.source.table,
        rowKey: waiter.row_key,
        reason: `second pass: optional parent ${parent.name} key ${parentKey} synced`,
      },
      selectRowStatement(child.source.table, child.source.key, waiter.row_key),
    );
    // No id: the child is gone, and its delete is carried on its own.
    if (id === undefined) continue;
    logIds.push(id);
    channels.add(channelFor(parseTable(child.source.table)!.schema));
  }
  // Poll mode: the listener finds them on its next look.
  if (config.capture.notify) for (const channel of channels) await client.query(`SELECT pg_notify($1, '')`, [channel]);
  return logIds;
}
