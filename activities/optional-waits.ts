// Optional parents, two passes (the way data loaders do it): a child whose
// optional parent is not in its target yet is written without it and
// remembered in ferry.optional_waits; when that parent's sync completes, the
// child gets a new log row and is carried again, now with the parent.
import type { FerryConfig, Mapping } from '../src/config.js';
import { mappingByName } from '../src/config.js';
import type { Client } from '../src/db.js';
import { channelFor } from '../src/listener.js';
import { selectRowStatement } from '../src/statements.js';
import type { ParentRef } from './parent-refs.js';

/** Replaces what this row waits for optionally with `absent` (none: it waits for nothing). */
export async function recordOptionalWaits(client: Client, mapping: Mapping, rowKey: string, absent: ParentRef[]): Promise<void> {
  await client.query(`DELETE FROM ferry.optional_waits WHERE mapping = $1 AND row_key = $2`, [mapping.name, rowKey]);
  if (absent.length === 0) return;
  await client.query(
    `INSERT INTO ferry.optional_waits (parent_mapping, parent_key, mapping, row_key)
     SELECT p.mapping, p.key, $3, $4 FROM unnest($1::text[], $2::text[]) AS p (mapping, key)
     ON CONFLICT DO NOTHING`,
    [absent.map((r) => r.parent.name), absent.map((r) => r.key), mapping.name, rowKey],
  );
}

/**
 * The parent (mapping, key) is in its target now: every child written
 * without it gets a new pending log, in this transaction, and the listener a
 * wake-up. Returns the new log ids.
 */
export async function recarryOptionalWaiters(client: Client, config: FerryConfig, parent: Mapping, parentKey: string): Promise<number[]> {
  const { rows } = await client.query<{ mapping: string; row_key: string }>(
    `DELETE FROM ferry.optional_waits WHERE parent_mapping = $1 AND parent_key = $2 RETURNING mapping, row_key`,
    [parent.name, parentKey],
  );
  const logIds: number[] = [];
  const channels = new Set<string>();
  for (const waiter of rows) {
    const child = mappingByName(config, waiter.mapping);
    if (!child) continue; // left the config: nothing carries it
    const select = selectRowStatement(child.source.table, child.source.key, waiter.row_key);
    const { rows: inserted } = await client.query<{ id: number }>(
      `INSERT INTO ferry.database_trigger_log (mapping, table_name, op, row_key, new_row, reason)
       SELECT $2, $3, 'UPDATE', $1::text, r.row, $4 FROM (${select.text}) r
       RETURNING id`,
      [waiter.row_key, child.name, child.source.table, `second pass: optional parent ${parent.name} key ${parentKey} synced`],
    );
    // No row: the child is gone, and its delete is carried on its own.
    if (inserted[0]) {
      logIds.push(inserted[0].id);
      channels.add(channelFor(child.source.table.split('.')[0]!));
    }
  }
  for (const channel of channels) await client.query(`SELECT pg_notify($1, '')`, [channel]);
  return logIds;
}
