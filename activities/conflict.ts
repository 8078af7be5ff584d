// The rules of two-way pairs: who wins when both sides changed, and when a
// change carries nothing because no mapped value moved.
import { isDeepStrictEqual } from 'node:util';
import type { Mapping, Row, TransformContext } from '../src/config.js';
import { logTable, type LogRow, type PgClient } from '../src/db/index.js';
import type { CarryIO } from './carry-io.js';
import { selectRowStatement } from '../src/statements.js';
import { callTransform } from './transform.js';

/**
 * Whether the transform makes a different target row of `before` than of
 * `after` (a source row, or its transform already computed as `out`). Ferry may
 * call a transform more than once per change for this; a throw counts as different.
 */
export async function transformsDiffer(
  mapping: Mapping,
  ctx: TransformContext,
  before: Row,
  after: { row: Row } | { out: Row | null },
): Promise<boolean> {
  try {
    const next = 'out' in after ? after.out : await callTransform(mapping, after.row, ctx);
    return !isDeepStrictEqual(await callTransform(mapping, before, ctx), next);
  } catch {
    return true;
  }
}

/** Whether a pending change alters what the mapping's transform makes of the row. */
function changesMappedValues(mapping: Mapping, change: logTable.PendingChange): Promise<boolean> {
  if (change.op !== 'UPDATE' || !change.old_row || !change.new_row) return Promise.resolve(true);
  const ctx = { op: change.op, logId: change.id, mapping: mapping.name, parents: {} };
  return transformsDiffer(mapping, ctx, change.old_row, { row: change.new_row });
}

export interface ConflictLoss {
  /** The winning log, on the other side. */
  winner: number;
  /** The log's error text: `conflict: lost to <id> of <mapping> (<policy>)`. */
  why: string;
}

/**
 * Two-way pairs: before this log writes the target row with this key, look
 * for pending changes of that same row on the other side (the reverse
 * mapping's logs) that alter mapped values. The mapping's conflict policy
 * picks one winner, whole, never a mix of fields: returns the loss when this
 * log loses; when it wins, the other side's changes are marked skipped,
 * superseded by it. Backfill logs are never rivals, and lose to any.
 */
export async function settleConflict(
  io: CarryIO,
  mapping: Mapping,
  reverse: Mapping | undefined,
  log: Pick<LogRow, 'id' | 'kind'>,
  targetKey: unknown,
  workflowId?: string,
): Promise<ConflictLoss | undefined> {
  if (!reverse) return undefined;
  const { client } = io;
  const logId = log.id;
  const row = await io.selectRow(mapping.target.table, mapping.target.key, targetKey);
  if (!row) return undefined; // nothing on the other side yet: nothing to conflict with
  const current = selectRowStatement(reverse.source.table, reverse.source.key, undefined).text;
  const changes = await logTable.pendingChanges(client, reverse.name, String(row[reverse.source.key]), current);
  const rivals: number[] = [];
  for (const change of changes) if (await changesMappedValues(reverse, change)) rivals.push(change.id);
  if (rivals.length === 0) return undefined;

  const newest = rivals[rivals.length - 1]!;
  const policy = mapping.conflict;
  // A backfill carries no edit of its own: any live change on the other side wins.
  if (log.kind === 'backfill' || policy === 'target-wins' || (policy === 'latest' && newest > logId))
    return { winner: newest, why: `conflict: lost to ${newest} of ${reverse.name} (${reverse.conflict})` };
  await logTable.finish(
    client,
    { ids: rivals },
    { status: 'skipped', supersededBy: logId, error: `conflict: lost to ${logId} of ${mapping.name} (${policy})`, workflowId },
  );
  return undefined;
}

/**
 * Two-way pairs serialize on the row they share, which a reverse mapping
 * locks only as its target, after reading its source. Had the other side
 * written this source row meanwhile, what was read is stale: try again.
 */
export async function checkSourceUnchanged(
  client: PgClient,
  mapping: Mapping,
  reverse: Mapping | undefined,
  rowKey: string,
  seen: Row,
): Promise<void> {
  if (!reverse) return;
  const now = await client.query<{ row: Row }>(selectRowStatement(mapping.source.table, mapping.source.key, rowKey));
  if (!isDeepStrictEqual(now.rows[0]?.row, seen)) throw new Error(`source row ${mapping.source.table} ${rowKey} changed while carrying it; retrying`);
}
