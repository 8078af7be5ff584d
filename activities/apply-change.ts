import { isDeepStrictEqual } from 'node:util';
import { ApplicationFailure } from '@temporalio/activity';
import type { FerryConfig, Mapping, Row, TransformContext } from '../src/config.js';
import { mappingByName, reverseOf } from '../src/config.js';
import { lockIdentity, rowIdentity, withTransaction, type Client, type Pool } from '../src/db.js';
import { selectRowStatement } from '../src/statements.js';
import { resolveConflict } from './conflict.js';
import { loadLog, logProblem, lookupParents, newestPendingOf, readSource, type LogRow } from './lookup.js';
import { coverOlderChanges, markLog, markWaiting, waitersOf } from './mark.js';
import { callTransform, runTransform } from './transform.js';
import type { ApplyResult, FinalStatus, SyncLogInput } from './types.js';
import { deleteTarget, linkTarget, markOwnWrite, upsertTarget } from './upsert.js';

export interface ApplyDeps {
  pool: Pool;
  config: FerryConfig;
}

/**
 * Carries one log to its target: lookup, parents, transform, conflicts,
 * upsert (or link, or delete) and mark, in one transaction under a lock on
 * the source row's identity.
 *
 * Why one transaction: the row that is transformed is read under the lock,
 * the target write and the log's new status commit together, and a log whose
 * row has a newer pending change steps aside (skipped) for it. So concurrent
 * or out-of-order workflows for one row serialize, and the last write is
 * always the transform of the latest source row.
 */
export function createApplyChange({ pool, config }: ApplyDeps) {
  // Takes the workflow's input (ids and names) so interceptors can tell which sync this is.
  return async function applyChange({ logId }: SyncLogInput): Promise<ApplyResult> {
    return withTransaction(pool, async (client) => {
      const log = await loadLog(client, logId);
      if (!log) throw ApplicationFailure.nonRetryable(`log ${logId} does not exist`, 'UnknownLog');
      const result = await carry(client, log);
      return result.status === 'waiting_parent' ? result : { ...result, createdAt: log.created_at.toISOString() };
    });
  };

  async function carry(client: Client, log: LogRow): Promise<ApplyResult> {
    const logId = log.id;
    if (log.status !== 'pending') {
      // A second dispatch of a finished log: nothing to write, but wake any
      // child that still waits for it.
      return done(log.status as FinalStatus, `already ${log.status}`, true, await waitersOf(client, log.mapping, log.row_key));
    }
    const mapping = mappingByName(config, log.mapping);
    const problem = mapping ? logProblem(log) : `mapping "${log.mapping}" is not in the config`;
    if (!mapping || problem) {
      const error = problem!;
      await markLog(client, logId, 'failed', { error });
      return done('failed', error, false, []);
    }
    // A burst of changes to one row: all but the newest step aside at once,
    // without queueing on the row's lock (each waiter would hold a connection).
    // A backfill log steps aside for any pending change of its row: live changes win.
    const stepsAside = (newer: number | null): newer is number => newer !== null && (newer > logId || log.kind === 'backfill');
    const newer = await newestPendingOf(client, mapping, log.row_key);
    if (stepsAside(newer)) return superseded(client, logId, newer);
    await lockIdentity(client, rowIdentity(mapping.source.table, mapping.source.key, log.row_key));
    const source = await readSource(client, mapping, log.row_key);
    if (stepsAside(source.newestPending)) return superseded(client, logId, source.newestPending);
    // This log is the row's newest pending change: it carries the older ones.
    const earliest = (await coverOlderChanges(client, logId, mapping.name, log.row_key)) ?? log;
    if (source.row === null) return applyDelete(client, mapping, log);

    const lookup = await lookupParents(client, config, mapping, source.row);
    if (lookup.missing) {
      const attempts = await markWaiting(client, logId, lookup.missing);
      return { status: 'waiting_parent', parent: lookup.missing, attempts, policy: config.missingParent };
    }
    const ctx = { op: log.op, logId, mapping: mapping.name, parents: lookup.parents };
    const out = await runTransform(mapping, source.row, ctx);
    if (out === null) {
      await markLog(client, logId, 'skipped', { error: 'transform returned null' });
      return done('skipped', 'transform returned null', false, []);
    }
    // A change that alters no mapped value (a connector touching sfid or a
    // timestamp) has nothing to carry; writing the whole row anyway would
    // overwrite a concurrent edit on the other side with stale values.
    if (earliest.op !== 'INSERT' && earliest.old_row && (await sameTransform(mapping, earliest.old_row, ctx, out))) {
      await markLog(client, logId, 'skipped', { error: 'no mapped column changed' });
      return done('skipped', 'no mapped column changed', false, await waitersOf(client, mapping.name, log.row_key));
    }
    const key = out[mapping.target.key];
    if (key === null || key === undefined) {
      // Only with `link` (runTransform checks): a record made on the other side.
      const created = await linkTarget(client, mapping, out, log.row_key);
      await markLog(client, logId, 'synced');
      return done('synced', `linked to new ${mapping.target.table} ${mapping.target.key}=${String(created)}`, false, []);
    }
    const lost = await settleConflict(client, mapping, log, key);
    if (lost) return lost;
    await lockIdentity(client, rowIdentity(mapping.target.table, mapping.target.key, key));
    await checkSourceUnchanged(client, mapping, log.row_key, source.row);
    await markOwnWrite(client, [mapping.source.table]);
    const changed = await upsertTarget(client, mapping, out);
    await markLog(client, logId, 'synced');
    return done('synced', changed ? 'upserted' : 'target already equal', false, await waitersOf(client, mapping.name, log.row_key));
  }

  /** Two-way pairs: a losing change steps aside (skipped) for the other side's winning one. */
  async function settleConflict(client: Client, mapping: Mapping, log: LogRow, targetKey: unknown): Promise<ApplyResult | undefined> {
    const reverse = reverseOf(config.mappings, mapping);
    if (!reverse) return undefined;
    const winner = await resolveConflict(client, mapping, reverse, log, targetKey);
    if (winner === undefined) return undefined;
    const why = `conflict: lost to ${winner} of ${reverse.name} (${reverse.conflict ?? 'latest'})`;
    await markLog(client, log.id, 'skipped', { supersededBy: winner, error: why });
    return done('skipped', why, false, []);
  }

  /**
   * Two-way pairs serialize on the row they share, which a reverse mapping
   * locks only as its target, after reading its source. Had the other side
   * written this source row meanwhile, what was read is stale: try again.
   */
  async function checkSourceUnchanged(client: Client, mapping: Mapping, rowKey: string, seen: Row): Promise<void> {
    if (!reverseOf(config.mappings, mapping)) return;
    const now = await client.query<{ row: Row }>(selectRowStatement(mapping.source.table, mapping.source.key, rowKey));
    if (!isDeepStrictEqual(now.rows[0]?.row, seen)) throw new Error(`source row ${mapping.source.table} ${rowKey} changed while carrying it; retrying`);
  }

  /** The source row is gone: a DELETE applies onDelete; any other change has nothing left to carry. */
  async function applyDelete(client: Client, mapping: Mapping, log: LogRow): Promise<ApplyResult> {
    const last = log.old_row ?? log.new_row;
    if (log.op !== 'DELETE' || !last) {
      await markLog(client, log.id, 'skipped', { error: 'source row no longer exists' });
      return done('skipped', 'source row no longer exists', false, []);
    }
    // The transform of the last row seen names the target row to delete.
    const out = await runTransform(mapping, last, { op: 'DELETE', logId: log.id, mapping: mapping.name, parents: {} });
    const key = out?.[mapping.target.key];
    if (out === null || key === null || key === undefined) {
      await markLog(client, log.id, 'skipped', { error: 'transform returned no target row' });
      return done('skipped', 'transform returned no target row', false, []);
    }
    // A delete that writes nothing (onDelete: ignore) cannot conflict with anything.
    const lost = mapping.onDelete === 'ignore' ? undefined : await settleConflict(client, mapping, log, key);
    if (lost) return lost;
    await lockIdentity(client, rowIdentity(mapping.target.table, mapping.target.key, key));
    await markOwnWrite(client, [mapping.source.table]);
    const changed = await deleteTarget(client, mapping, key);
    await markLog(client, log.id, 'synced');
    const detail = mapping.onDelete === 'ignore' ? 'delete ignored (onDelete: ignore)' : changed ? 'deleted' : 'target already gone';
    return done('synced', detail, false, []);
  }
}

async function superseded(client: Client, logId: number, newer: number): Promise<ApplyResult> {
  await markLog(client, logId, 'skipped', { supersededBy: newer });
  return done('skipped', `superseded by ${newer}`, false, []);
}

/** Whether the row before the change transforms to the same target row (a throw counts as different). */
async function sameTransform(mapping: Mapping, before: Row, ctx: TransformContext, after: Row): Promise<boolean> {
  try {
    return isDeepStrictEqual(await callTransform(mapping, before, ctx), after);
  } catch {
    return false;
  }
}

function done(status: FinalStatus, detail: string, already: boolean, waiters: number[]): ApplyResult {
  return { status, detail, already, waiters };
}
