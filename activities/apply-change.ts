import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  DATA_FAILURES,
  UNKNOWN_LOG,
  type ApplyResult,
  type FinalResult,
  type FinalStatus,
  type MissingParent,
  type SyncLogInput,
} from '../src/contract/index.js';
import type { FerryConfig, Mapping } from '../src/config.js';
import { mappingByName, reverseOf } from '../src/config.js';
import { logTable, rowIdentity, withTransaction, type LogRow, type Pool } from '../src/db/index.js';
import { singleRowIO, type CarryIO } from './carry-io.js';
import { otherSide, settleConflict, targetBehind, transformsDiffer } from './conflict.js';
import { checkInstance } from './instance.js';
import { logProblem, lookupParents } from './lookup.js';
import { optionalWaitsOf } from './optional-waits.js';
import { loopMessage } from './parent-refs.js';
import { loopThrough } from './parent-waits.js';
import { runTransform } from './transform.js';

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
  const Carry = createCarry(config);
  // Takes the workflow's input (ids and names) so interceptors can tell which sync this is.
  return async function applyChange(input: SyncLogInput): Promise<ApplyResult> {
    checkInstance(config, input);
    const { logId } = input;
    const workflowId = Context.current().info.workflowExecution?.workflowId;
    try {
      return await withTransaction(pool, async (client) => {
        const log = await logTable.findLog(client, logId, { lock: true });
        if (!log) throw ApplicationFailure.nonRetryable(`log ${logId} does not exist`, UNKNOWN_LOG);
        const result = await new Carry(singleRowIO(client, config), log, workflowId).run();
        return result.status === 'waiting_parent' ? result : { ...result, createdAt: log.created_at.toISOString() };
      });
    } catch (err) {
      throw await keepMessageHome(err, input, workflowId);
    }
  };

  /**
   * A data failure's message may quote the row (the transform's own text, a
   * value Postgres refused), and Temporal's history is readable by anyone with
   * namespace access: the message goes to the log row only, and history gets
   * one that names the log. (The attempt rolled back; this marks it failed.)
   */
  async function keepMessageHome(err: unknown, input: SyncLogInput, workflowId: string | undefined): Promise<unknown> {
    if (!(err instanceof ApplicationFailure) || !DATA_FAILURES.includes(err.type ?? '')) return err;
    await logTable.finish(pool, { ids: [input.logId] }, { status: 'failed', error: err.message, countAttempt: true, workflowId });
    return ApplicationFailure.nonRetryable(
      `${input.mapping}: log ${input.logId} failed (${err.type}); the message is in its log row: ferry status, or ferry.database_trigger_log.error`,
      err.type,
    );
  }
}

/**
 * The rules of carrying one change, shared by a single sync and a batch's
 * chunk (carry-chunk.ts): `io` decides only how reads and writes reach Postgres.
 */
export function createCarry(config: FerryConfig) {
  // Mappings some mapping names as an optional parent: their syncs look for children to carry again.
  const optionalChildren = new Set(config.mappings.flatMap((m) => m.parents.filter((p) => p.optional).map((p) => p.mapping)));

  /** One log's trip, in the caller's transaction. Each exit is one line: `finish` marks the log and says what happened. */
  class Carry {
    constructor(
      private readonly io: CarryIO,
      private readonly log: LogRow,
      private readonly workflowId: string | undefined,
    ) {}

    async run(): Promise<ApplyResult> {
      const { io, log } = this;
      const logId = log.id;
      if (log.status !== 'pending') {
        // A second dispatch of a finished log: nothing to write, but wake any
        // child that still waits for it. Its stored error may quote the row: it stays in the log.
        const detail = log.status === 'failed' ? `already failed; the message is in its log row` : `already ${log.status}`;
        return { status: log.status, detail, already: true, waiters: await this.waiters() };
      }
      const mapping = mappingByName(config, log.mapping);
      if (!mapping) return this.finish('failed', `mapping "${log.mapping}" is not in the config`);
      const problem = logProblem(log, mapping);
      if (problem) return this.finish('failed', problem);
      // A burst of changes to one row: all but the newest step aside at once,
      // without queueing on the row's lock (each waiter would hold a connection).
      // A backfill log steps aside for any pending change of its row: live changes win.
      const stepsAside = (newer: number | null): newer is number => newer !== null && (newer > logId || log.kind === 'backfill');
      const newer = await io.newestPending(mapping.name, log.row_key);
      if (stepsAside(newer)) return this.superseded(newer);
      await io.lock(rowIdentity(mapping.source.table, mapping.source.key, log.row_key));
      const source = await io.readSource(mapping, log.row_key);
      if (stepsAside(source.newestPending)) return this.superseded(source.newestPending);
      // This log is the row's newest pending change: it carries the older ones.
      const covered = await io.finish(
        { mapping: mapping.name, rowKey: log.row_key, below: logId },
        { status: 'skipped', supersededBy: logId, workflowId: this.workflowId },
      );
      const earliest = covered[0] ?? log;
      if (covered.length > 0 && log.op !== 'DELETE') await io.inheritBefore(logId, earliest);
      // A second pass among them: what the target reflects is not known, so carry it whatever changed.
      const secondPass = [log, ...covered].some(logTable.isSecondPass);
      if (source.row === null) return this.applyDelete(mapping);

      const lookup = await lookupParents(io, config, mapping, source.row);
      if (lookup.missing) return this.waitForParent(mapping, lookup.missing);
      if (hasOptionalParents(mapping)) await io.recordOptionalWaits(mapping, optionalWaitsOf(log.row_key, lookup.absent));
      const ctx = { op: log.op, logId, mapping: mapping.name, parents: lookup.parents };
      const out = await runTransform(mapping, source.row, ctx);
      if (out === null) return this.finish('skipped', 'transform returned null');
      // A change that alters no mapped value (a connector touching sfid or a
      // timestamp) has nothing to carry; writing the whole row anyway would
      // overwrite a concurrent edit on the other side with stale values.
      const unchanged =
        !secondPass && earliest.op !== 'INSERT' && !!earliest.old_row && !(await transformsDiffer(mapping, ctx, earliest.old_row, { out }));
      const key = out[mapping.target.key];
      if (key === null || key === undefined) {
        if (unchanged) return this.finish('skipped', 'no mapped column changed', { wake: true });
        // Only with `link` (runTransform checks): a record made on the other side.
        const created = await io.linkTarget(mapping, out, log.row_key);
        return this.finish('synced', `linked to new ${mapping.target.table} ${mapping.target.key}=${String(created)}`);
      }
      const reverse = reverseOf(config.mappings, mapping);
      const side = reverse && (await otherSide(io, mapping, reverse, key));
      // Unless a change on the other side lost to this row's and left the pair apart.
      if (unchanged && !(side && targetBehind(side, out))) return this.finish('skipped', 'no mapped column changed', { wake: true });
      const lost = side && (await settleConflict(io, mapping, reverse, side, log, this.workflowId));
      if (lost) return this.finish('skipped', lost.why, { supersededBy: lost.winner });
      // A pair's target row was locked before its conflict was judged (otherSide).
      if (!side) await io.lock(rowIdentity(mapping.target.table, mapping.target.key, key));
      await io.checkSourceUnchanged(mapping, reverse, log.row_key, source.row);
      await io.markOwnWrite([mapping.source.table]);
      const changed = await io.upsert(mapping, out);
      return this.finish('synced', changed === 0 ? 'target already equal' : 'upserted', { wake: true });
    }

    /** The source row is gone: a DELETE applies onDelete; any other change has nothing left to carry. */
    private async applyDelete(mapping: Mapping): Promise<ApplyResult> {
      const { io, log } = this;
      const last = log.old_row ?? log.new_row;
      if (log.op !== 'DELETE' || !last) return this.finish('skipped', 'source row no longer exists');
      // The transform of the last row seen names the target row to delete.
      const out = await runTransform(mapping, last, { op: 'DELETE', logId: log.id, mapping: mapping.name, parents: {} });
      const key = out?.[mapping.target.key];
      if (out === null || key === null || key === undefined) return this.finish('skipped', 'transform returned no target row');
      // A delete that writes nothing (onDelete: ignore) cannot conflict with anything.
      const reverse = mapping.onDelete !== 'ignore' ? reverseOf(config.mappings, mapping) : undefined;
      const side = reverse && (await otherSide(io, mapping, reverse, key));
      const lost = side && (await settleConflict(io, mapping, reverse, side, log, this.workflowId));
      if (lost) return this.finish('skipped', lost.why, { supersededBy: lost.winner });
      // A pair's target row was locked before its conflict was judged (otherSide).
      if (!side) await io.lock(rowIdentity(mapping.target.table, mapping.target.key, key));
      await io.markOwnWrite([mapping.source.table]);
      if (hasOptionalParents(mapping)) await io.recordOptionalWaits(mapping, optionalWaitsOf(log.row_key, []));
      const changed = await io.deleteTarget(mapping, key);
      return this.finish('synced', mapping.onDelete === 'ignore' ? 'delete ignored (onDelete: ignore)' : changed ? 'deleted' : 'target already gone');
    }

    /**
     * A required parent is not in its target: record that this log waits for
     * it, unless the chain of waits up from that parent comes back to this
     * row. Such rows reference each other and can never sync: every log of
     * the loop fails now, naming it, rather than after maximumAttempts.
     */
    private async waitForParent(mapping: Mapping, parent: MissingParent): Promise<ApplyResult> {
      const { io, log } = this;
      const chain = await io.waitChain(parent);
      const loop = loopThrough({ mapping: mapping.name, key: log.row_key }, chain);
      if (loop) {
        const error = loopMessage(config, loop);
        const others = loop.slice(1, -1).flatMap((l) => (l.logId === null || l.logId === log.id ? [] : [l.logId]));
        const failed = await io.finish({ ids: others }, { status: 'failed', error });
        // Their workflows get a wake-up: each finds its log failed and ends.
        return { ...(await this.finish('failed', error)), waiters: failed.map((l) => l.id) };
      }
      const attempts = await io.markWaiting(log.id, parent, this.workflowId);
      const further = chain.slice(1);
      return {
        status: 'waiting_parent',
        parent: further.length ? { ...parent, chain: further } : parent,
        attempts,
        policy: config.missingParent,
      };
    }

    private superseded(newer: number): Promise<FinalResult> {
      return this.finish('skipped', `superseded by ${newer}`, { supersededBy: newer, error: null });
    }

    /**
     * Marks this log final and says what happened. The log's error is the
     * detail, except for synced logs and plain supersession; `wake`: the row
     * reached its target, so children waiting for it get a wake-up.
     */
    private async finish(
      status: FinalStatus,
      detail: string,
      opts: { supersededBy?: number; error?: string | null; wake?: boolean } = {},
    ): Promise<FinalResult> {
      const error = opts.error !== undefined ? opts.error : status === 'synced' ? null : detail;
      await this.io.finish({ ids: [this.log.id] }, { status, error, supersededBy: opts.supersededBy, workflowId: this.workflowId });
      return { status, detail, already: false, waiters: opts.wake ? await this.parentDone() : [] };
    }

    /**
     * This row is in its target now: the logs waiting for it as a required
     * parent (returned: their workflows get a wake-up), and the rows written
     * without it as an optional parent (carried again: new logs).
     */
    private async parentDone(): Promise<number[]> {
      const mapping = mappingByName(config, this.log.mapping)!;
      if (optionalChildren.has(mapping.name)) await this.io.recarryOptionalWaiters(mapping, this.log.row_key);
      return this.waiters();
    }

    private waiters(): Promise<number[]> {
      return this.io.waitersOf(this.log.mapping, this.log.row_key);
    }
  }

  return Carry;
}

function hasOptionalParents(mapping: Mapping): boolean {
  return mapping.parents.some((p) => p.optional);
}
