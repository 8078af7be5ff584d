// The rules of two-way pairs: who wins when both sides changed, and when a
// change carries nothing because no mapped value moved.
import { isDeepStrictEqual } from 'node:util';
import type { Mapping, Row, TransformContext } from '../src/config.js';
import { logTable, tableRowName, type LogRow } from '../src/db/index.js';
import type { CarryIO } from './carry-io.js';
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

/** The row a log of a two-way pair would write, as the other side's source row, and that side's rivals. */
export interface OtherSide {
  /** The target row with this key, or undefined. */
  row: Row | undefined;
  /** Pending changes of that row on the other side (the reverse mapping's logs) that alter mapped values, in id order. */
  rivals: number[];
}

/**
 * Two-way pairs: the other side of the row this log writes, read under that
 * row's lock. Configs are checked so that one side's target key is the
 * other's source key: whichever side locks the row they share as its
 * target locks it here, before judging, while the other side holds it as its
 * source for its whole sync. So the two sides never judge each other at
 * once: a log that loses to a pending change (settleConflict) has decided
 * before that change's sync starts, and that sync then finds the loss
 * (targetBehind). Backfill logs are never rivals.
 */
export async function otherSide(io: CarryIO, mapping: Mapping, reverse: Mapping, targetKey: unknown): Promise<OtherSide> {
  await io.lockBeforeJudging(tableRowName(mapping.target.table, mapping.target.key, targetKey));
  const row = await io.selectRow(mapping.target.table, mapping.target.key, targetKey);
  if (!row) return { row, rivals: [] }; // nothing on the other side yet: nothing to conflict with
  const changes = await io.pendingChanges(reverse, String(row[reverse.source.key]));
  // Changes that cancel out (a value changed and changed back) are no change, as their own sync will find.
  const net = changes.length > 1 && changes.every((c) => c.op === 'UPDATE') ? { ...changes.at(-1)!, old_row: changes[0]!.old_row } : undefined;
  if (net && !(await changesMappedValues(reverse, net))) return { row, rivals: [] };
  const rivals: number[] = [];
  for (const change of changes) if (await changesMappedValues(reverse, change)) rivals.push(change.id);
  return { row, rivals };
}

/**
 * Whether the target row differs from `out` while nothing pending on the
 * other side will carry it back: a change there lost a conflict to this
 * row's changes. Then this row is carried even if its own changes cancel
 * out (a value changed and changed back), or the pair stays apart.
 */
export function targetBehind(side: OtherSide, out: Row): boolean {
  const { row } = side;
  if (!row || side.rivals.length > 0) return false;
  return Object.entries(out).some(([column, value]) => !isDeepStrictEqual(JSON.parse(JSON.stringify(value ?? null)), row[column] ?? null));
}

/**
 * Two-way pairs: before this log writes the target row, the other side's
 * pending changes of that row (otherSide) are its rivals. The mapping's
 * conflict policy picks one winner, whole, never a mix of fields: returns
 * the loss when this log loses; when it wins, the rivals are marked skipped,
 * superseded by it. A backfill log loses to any rival.
 */
export async function settleConflict(
  io: CarryIO,
  mapping: Mapping,
  reverse: Mapping,
  side: OtherSide,
  log: Pick<LogRow, 'id' | 'kind'>,
  workflowId?: string,
): Promise<ConflictLoss | undefined> {
  const { rivals } = side;
  if (rivals.length === 0) return undefined;
  const logId = log.id;
  const newest = rivals[rivals.length - 1]!;
  const policy = mapping.conflict;
  // A backfill carries no edit of its own: any live change on the other side wins.
  if (log.kind === 'backfill' || policy === 'target-wins' || (policy === 'latest' && newest > logId))
    return { winner: newest, why: `conflict: lost to ${newest} of ${reverse.name} (${reverse.conflict})` };
  await io.finishOthers(rivals, {
    status: 'skipped',
    supersededBy: logId,
    error: `conflict: lost to ${logId} of ${mapping.name} (${policy})`,
    workflowId,
  });
  return undefined;
}

/** A source row read before its pair's shared row was locked, and the row as it was then. */
export interface SeenSource {
  rowKey: string;
  seen: Row;
}

/**
 * Two-way pairs serialize on the row they share, which a reverse mapping
 * locks only as its target, after reading its source. Had the other side
 * written this source row meanwhile, what was read is stale: throws
 * (retryable), and the carry is tried again. `now`: the row as it is now.
 */
export function checkSourceUnchanged(mapping: Mapping, read: SeenSource, now: Row | undefined): void {
  if (!isDeepStrictEqual(now, read.seen)) throw new Error(`a source row of ${mapping.source.table} changed while carrying it; retrying`);
}
