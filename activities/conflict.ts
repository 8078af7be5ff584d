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
 * A row's pending changes, each with the row as it was after it. The log keeps
 * only the row before a change (README "What the log holds"): the row after is
 * the next change's row before, and after the newest change it is the current
 * row, read in the same statement so both come from one snapshot. Logs written
 * before 003 still carry their own new_row, which wins.
 */
function pendingChangesStatement(mapping: Mapping): string {
  const current = selectRowStatement(mapping.source.table, mapping.source.key, undefined).text;
  return `SELECT id, op, old_row,
                 CASE WHEN new_row IS NOT NULL THEN new_row
                      WHEN lead(id) OVER w IS NULL THEN (${current})
                      ELSE lead(old_row) OVER w END AS new_row
            FROM ferry.database_trigger_log
           WHERE row_key = $1::text AND mapping = $2 AND status = 'pending'
          WINDOW w AS (ORDER BY id) ORDER BY id`;
}

/**
 * Two-way pairs: before this log writes the target row with this key, look
 * for pending changes of that same row on the other side (the reverse
 * mapping's logs) that alter mapped values. The mapping's conflict policy
 * picks one winner, whole, never a mix of fields: returns the winning log's
 * id when this log loses; when it wins, the other side's changes are marked
 * skipped, superseded by it.
 */
export async function resolveConflict(
  client: Client,
  mapping: Mapping,
  reverse: Mapping,
  logId: number,
  targetKey: unknown,
): Promise<number | undefined> {
  const counterpart = await client.query<{ row: Row }>(selectRowStatement(mapping.target.table, mapping.target.key, targetKey));
  const row = counterpart.rows[0]?.row;
  if (!row) return undefined; // nothing on the other side yet: nothing to conflict with
  const { rows } = await client.query<PendingChange>(pendingChangesStatement(reverse), [String(row[reverse.source.key]), reverse.name]);
  const rivals: number[] = [];
  for (const change of rows) if (await changesMappedValues(reverse, change)) rivals.push(change.id);
  if (rivals.length === 0) return undefined;

  const newest = rivals[rivals.length - 1]!;
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
