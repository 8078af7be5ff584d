import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import type { ApplyResult, BatchResult, ChunkResult, SyncLogInput } from '../contract/index.js';
import type { FerryEvents, SyncRef } from '../events.js';

export interface ObserveDeps {
  events: FerryEvents;
}

/**
 * An activity inbound interceptor that turns each applyChange / markFailed
 * outcome into a FerryEvents event, and each chunk a batch or a backfill
 * carried into one event with its counts per mapping (logs and metrics hang
 * off those). Local activities pass through it too. It only watches: a
 * failure to observe never changes what the activity returns or throws.
 */
export function observeActivities(deps: ObserveDeps): ActivityInterceptorsFactory {
  const inbound: ActivityInboundCallsInterceptor = {
    async execute(input, next) {
      const info = Context.current().info;
      const activity = info.activityType;
      if (activity === 'carryBatch' || activity === 'backfillChunk') {
        const result = (await next(input)) as BatchResult | ChunkResult;
        const leftover = 'leftover' in result ? result.leftover.length : result.handOff.length;
        deps.events.emit('chunkDone', { workflowId: info.workflowExecution?.workflowId, activity, byMapping: result.byMapping, leftover });
        return result;
      }
      if (activity !== 'applyChange' && activity !== 'markFailed') return next(input);
      // Both activities take the workflow's input first: log id and mapping.
      const { logId, mapping } = input.args[0] as SyncLogInput;
      const ref: SyncRef = { logId, mapping, workflowId: info.workflowExecution?.workflowId };
      let result: unknown;
      try {
        result = await next(input);
      } catch (err) {
        deps.events.emit('syncError', {
          ...ref,
          activity,
          attempt: info.attempt,
          retryable: !(err instanceof ApplicationFailure && err.nonRetryable),
          error: (err as Error).message,
        });
        throw err;
      }
      if (activity === 'markFailed') {
        deps.events.emit('syncDone', { ...ref, status: 'failed', detail: String(input.args[1]), already: false });
      } else {
        report(deps.events, ref, result as ApplyResult);
      }
      return result;
    },
  };
  return () => ({ inbound });
}

function report(events: FerryEvents, ref: SyncRef, result: ApplyResult): void {
  if (result.status === 'waiting_parent') {
    events.emit('syncWaiting', { ...ref, parent: result.parent, attempts: result.attempts });
    return;
  }
  const latencyMs = result.status === 'synced' && !result.already && result.createdAt ? Date.now() - Date.parse(result.createdAt) : undefined;
  events.emit('syncDone', { ...ref, status: result.status, detail: result.detail, already: result.already, latencyMs });
}
