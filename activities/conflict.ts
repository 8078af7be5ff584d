import { isDeepStrictEqual } from 'node:util';
import type { Mapping, Row } from '../src/config.js';
import type { Client } from '../src/db.js';
import { selectRowStatement } from '../src/statements.js';

interface PendingChange {
  id: number;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  old_row: Row | null;
  new_row: Row | null;
}

/** Whether a change alters what the mapping's transform makes of the row (a throw counts as yes). */
export async function changesMappedValues(mapping: Mapping, change: PendingChange): Promise<boolean> {
  if (change.op !== 'UPDATE' || !change.old_row || !change.new_row) return true;
  const ctx = { op: change.op, logId: change.id, mapping: mapping.name, parents: {} };
  try {
    return !isDeepStrictEqual(await mapping.transform(change.old_row, ctx), await mapping.transform(change.new_row, ctx));
  } catch {
    return true;
  }
}

/**
 * Two-way pairs: before this log writes the target row with this key, look
 * for pending changes of that same row on the other side (the reverse
 * mapping's logs) that alter mapped values. The mapping's conflict policy
 * picks one winner, whole, never a mix of fields: returns the winning log's
 * id when this log loses; when it wins, the other side's changes are marked
 * skipped, superseded by it. Backfill logs are never rivals, and lose to any.
 */
export async function resolveConflict(
  client: Client,
  mapping: Mapping,
  reverse: Mapping,
  log: { id: number; kind: 'change' | 'backfill' },
  targetKey: unknown,
): Promise<number | undefined> {
  const logId = log.id;
  const counterpart = await client.query<{ row: Row }>(selectRowStatement(mapping.target.table, mapping.target.key, targetKey));
  const row = counterpart.rows[0]?.row;
  if (!row) return undefined; // nothing on the other side yet: nothing to conflict with
  const { rows } = await client.query<PendingChange>(
    `SELECT id, op, old_row, new_row FROM ferry.database_trigger_log
      WHERE mapping = $1 AND row_key = $2 AND status = 'pending' AND kind = 'change' ORDER BY id`,
    [reverse.name, String(row[reverse.source.key])],
  );
  const rivals: number[] = [];
  for (const change of rows) if (await changesMappedValues(reverse, change)) rivals.push(change.id);
  if (rivals.length === 0) return undefined;

  const newest = rivals[rivals.length - 1]!;
  // A backfill carries no edit of its own: any live change on the other side wins.
  if (log.kind === 'backfill') return newest;
  const policy = mapping.conflict ?? 'latest';
  if (policy === 'target-wins' || (policy === 'latest' && newest > logId)) return newest;
  await client.query(
    `UPDATE ferry.database_trigger_log
        SET status = 'skipped', superseded_by = $1, attempts = attempts + 1, synced_at = now(),
            error = $3, waiting_mapping = NULL, waiting_key = NULL
      WHERE id = ANY($2) AND status = 'pending'`,
    [logId, rivals, `conflict: lost to ${logId} of ${mapping.name} (${policy})`],
  );
  return undefined;
}
