import { waitedParent, type ApplyResult, type FinalResult, type FinalStatus, type MissingParent } from '../src/contract/index.js';
import type { FerryConfig, Mapping } from '../src/config.js';
import { mappingByName, reverseOf } from '../src/config.js';
import { logTable, tableRowName, type LogRow } from '../src/db/index.js';
import type { CarryIO } from './carry-io.js';
import { otherSide, settleConflict, targetBehind, transformsDiffer } from './conflict.js';
import { logProblem, lookupParents } from './lookup.js';
import { optionalWaitsOf } from './optional-waits.js';
import { loopMessage } from './parent-refs.js';
import { loopThrough } from './parent-waits.js';
import { runTransform } from './transform.js';

/**
 * The rules of carrying one change, shared by a single sync and a batch
 * (carry-batch.ts): `io` decides only how reads and writes reach Postgres.
 */
export function createCarry(config: FerryConfig) {
  // Mappings some mapping names as an optional parent: their syncs look for children to carry again.
  const optionalChildren = new Set(config.mappings.flatMap((m) => m.parents.filter((p) => p.optional).map((p) => p.mapping)));

  /** One log's trip, in the caller's transaction. Each exit is one line: `end` marks the log and says what happened. */
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
      if (!mapping) return this.end('failed', `mapping "${log.mapping}" is not in the config`);
      const problem = logProblem(log, mapping);
      if (problem) return this.end('failed', problem);
      // A burst of changes to one row: all but the newest step aside at once,
      // without queueing on the row's lock (each waiter would hold a connection).
      // A backfill log steps aside for any pending change of its row: live changes win.
      const stepsAside = (newer: number | null): newer is number => newer !== null && (newer > logId || log.kind === 'backfill');
      const newer = await io.newestPending(mapping.name, log.row_key);
      if (stepsAside(newer)) return this.superseded(newer);
      await io.lock(tableRowName(mapping.source.table, mapping.source.key, log.row_key));
      const source = await io.readSource(mapping, log.row_key);
      if (stepsAside(source.newestPending)) return this.superseded(source.newestPending);
      // This log is the row's newest pending change: it carries the older ones.
      const covered = await io.supersedeOlder(mapping.name, log.row_key, logId, this.workflowId);
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
      if (out === null) return this.end('skipped', 'transform returned null');
      // A change that alters no mapped value (a connector touching sfid or a
      // timestamp) has nothing to carry; writing the whole row anyway would
      // overwrite a concurrent edit on the other side with stale values.
      const unchanged =
        !secondPass && earliest.op !== 'INSERT' && !!earliest.old_row && !(await transformsDiffer(mapping, ctx, earliest.old_row, { out }));
      const key = out[mapping.target.key];
      if (key === null || key === undefined) {
        if (unchanged) return this.end('skipped', 'no mapped column changed', { wake: true });
        // Only with `link` (runTransform checks): a record made on the other side.
        // The new row's key is written back to the source row; the detail, which history keeps, names no key.
        await io.linkTarget(mapping, out, log.row_key);
        return this.end('synced', `linked to a new ${mapping.target.table} row`);
      }
      const reverse = reverseOf(config.mappings, mapping);
      const side = reverse && (await otherSide(io, mapping, reverse, key));
      // Unless a change on the other side lost to this row's and left the pair apart.
      if (unchanged && !(side && targetBehind(side, out))) return this.end('skipped', 'no mapped column changed', { wake: true });
      const lost = side && (await settleConflict(io, mapping, reverse, side, log, this.workflowId));
      if (lost) return this.end('skipped', lost.why, { supersededBy: lost.winner });
      // A pair's target row was locked before its conflict was judged (otherSide).
      if (!side) await io.lock(tableRowName(mapping.target.table, mapping.target.key, key));
      if (reverse) await io.checkSourceUnchanged(mapping, { rowKey: log.row_key, seen: source.row });
      await io.markOwnWrite([mapping.source.table]);
      const changed = await io.upsert(mapping, out);
      return this.end('synced', changed === 0 ? 'target already equal' : 'upserted', { wake: true });
    }

    /** The source row is gone: a DELETE applies onDelete; any other change has nothing left to carry. */
    private async applyDelete(mapping: Mapping): Promise<ApplyResult> {
      const { io, log } = this;
      const last = log.old_row ?? log.new_row;
      if (log.op !== 'DELETE' || !last) return this.end('skipped', 'source row no longer exists');
      // The transform of the last row seen names the target row to delete.
      const out = await runTransform(mapping, last, { op: 'DELETE', logId: log.id, mapping: mapping.name, parents: {} });
      const key = out?.[mapping.target.key];
      if (out === null || key === null || key === undefined) return this.end('skipped', 'transform returned no target row');
      // A delete that writes nothing (onDelete: ignore) cannot conflict with anything.
      const reverse = mapping.onDelete !== 'ignore' ? reverseOf(config.mappings, mapping) : undefined;
      const side = reverse && (await otherSide(io, mapping, reverse, key));
      const lost = side && (await settleConflict(io, mapping, reverse, side, log, this.workflowId));
      if (lost) return this.end('skipped', lost.why, { supersededBy: lost.winner });
      // A pair's target row was locked before its conflict was judged (otherSide).
      if (!side) await io.lock(tableRowName(mapping.target.table, mapping.target.key, key));
      await io.markOwnWrite([mapping.source.table]);
      if (hasOptionalParents(mapping)) await io.recordOptionalWaits(mapping, optionalWaitsOf(log.row_key, []));
      const changed = await io.deleteTarget(mapping, key);
      return this.end('synced', mapping.onDelete === 'ignore' ? 'delete ignored (onDelete: ignore)' : changed ? 'deleted' : 'target already gone');
    }

    /**
     * A required parent is not in its target: record that this log waits for
     * it, unless the chain of waits up from that parent comes back to this
     * row. Such rows reference each other and can never sync: every log of
     * the loop fails now, naming it, rather than after maximumAttempts.
     */
    private async waitForParent(mapping: Mapping, parent: MissingParent): Promise<ApplyResult> {
      const { io, log } = this;
      const { waits } = io;
      // A lane that cannot wait (a batch) leaves the log for its own syncLog, which waits.
      if (!waits) return { status: 'waiting_parent', parent: waitedParent(parent), attempts: 0, policy: config.missingParent };
      const chain = await waits.waitChain(parent);
      const loop = loopThrough({ mapping: mapping.name, key: log.row_key }, chain);
      if (loop) {
        const error = loopMessage(config, loop);
        const others = loop.slice(1, -1).flatMap((l) => (l.logId === null || l.logId === log.id ? [] : [l.logId]));
        const failed = await io.finishOthers(others, { status: 'failed', error });
        // Their workflows get a wake-up: each finds its log failed and ends. This one's
        // history names the loop's rows by their logs; the log rows name their keys.
        const self = { mapping: mapping.name, key: log.row_key, logId: log.id };
        const detail = loopMessage(config, [self, ...loop.slice(1, -1), self], false);
        return { ...(await this.end('failed', detail, { error })), waiters: failed };
      }
      const attempts = await waits.markWaiting(log.id, parent, this.workflowId);
      return {
        status: 'waiting_parent',
        parent: waitedParent(parent, chain.slice(1)),
        attempts,
        policy: config.missingParent,
      };
    }

    private superseded(newer: number): Promise<FinalResult> {
      return this.end('skipped', `superseded by ${newer}`, { supersededBy: newer, error: null });
    }

    /**
     * Marks this log final and says what happened. The log's error is the
     * detail, except for synced logs and plain supersession; `wake`: the row
     * reached its target, so children waiting for it get a wake-up.
     */
    private async end(
      status: FinalStatus,
      detail: string,
      opts: { supersededBy?: number; error?: string | null; wake?: boolean } = {},
    ): Promise<FinalResult> {
      const error = opts.error !== undefined ? opts.error : status === 'synced' ? null : detail;
      await this.io.markFinal(this.log.id, { status, error, supersededBy: opts.supersededBy, workflowId: this.workflowId });
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
