import { ApplicationFailure, Context } from '@temporalio/activity';
import { DATA_FAILURES, UNKNOWN_LOG, type ApplyResult, type SyncLogInput } from '../src/contract/index.js';
import type { FerryConfig } from '../src/config.js';
import { logTable, withTransaction, type Pool } from '../src/db/index.js';
import { createCarry } from './carry.js';
import { singleRowIO } from './carry-io.js';
import { checkInstance } from './instance.js';

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
