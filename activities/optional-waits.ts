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

/** Remembers the optional parents this row was written without (replacing what it waited for before). */
export function recordOptionalWaits(client: PgClient, mapping: Mapping, rowKey: string, absent: ParentRef[]): Promise<void> {
  return optionalWaits.replaceOptionalWaits(
    client,
    { mapping: mapping.name, rowKey },
    absent.map((r) => ({ mapping: r.parent.name, key: r.key })),
  );
}

/**
 * The parent (mapping, key) is in its target now: every child written
 * without it gets a new pending log in this transaction (and the listener a
 * wake-up in notify mode). Returns the new log ids.
 */
export async function recarryOptionalWaiters(client: PgClient, config: FerryConfig, parent: Mapping, parentKey: string): Promise<number[]> {
  const logIds: number[] = [];
  const channels = new Set<string>();
  for (const waiter of await optionalWaits.takeOptionalWaiters(client, parent.name, parentKey)) {
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
