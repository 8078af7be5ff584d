import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ApplyResult, SyncLogInput } from '../src/contract/index.js';

export interface CarriedLogs {
  carried: number;
  skipped: number;
  /** Logs that must wait for a parent, or whose transform or write failed: each leaves for its own syncLog. */
  handOff: number[];
  /** Logs waiting for a carried row as their parent. */
  waiters: number[];
}

/**
 * Carries a set of pending logs of one mapping under the rules of
 * apply-change.ts. The one seam between a backfill chunk and the rule code:
 * for now each log is applied in its own transaction, a few at a time.
 */
export async function carryLogs(
  applyChange: (input: SyncLogInput) => Promise<ApplyResult>,
  logs: SyncLogInput[],
  concurrency: number,
): Promise<CarriedLogs> {
  const out: CarriedLogs = { carried: 0, skipped: 0, handOff: [], waiters: [] };
  let next = 0;
  const lane = async () => {
    while (next < logs.length) {
      const input = logs[next++]!;
      let result: ApplyResult;
      try {
        result = await applyChange(input).catch((err) => {
          // A row that changed under the carry (a live edit) is tried once more in place.
          if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
          return applyChange(input);
        });
      } catch {
        // Bad data or a bad transform, or trouble twice in a row: its own
        // syncLog carries it (or fails it, visibly, once), retrying as a sync does.
        out.handOff.push(input.logId);
        continue;
      }
      if (result.status === 'waiting_parent' || result.status === 'failed') out.handOff.push(input.logId);
      else {
        if (result.status === 'synced') out.carried++;
        else out.skipped++;
        out.waiters.push(...result.waiters);
      }
      if (next % 100 === 0) heartbeat(next);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, logs.length) }, lane));
  return out;
}

function heartbeat(done: number): void {
  try {
    Context.current().heartbeat(done);
  } catch {
    /* not inside an activity (a test calling it directly) */
  }
}
