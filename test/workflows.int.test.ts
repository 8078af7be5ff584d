// The workflows alone, on the run's Temporal dev server, with scripted
// activities instead of Postgres: backoff, forceRetry, the parent child
// workflow, a batch's leftovers, a backfill across continue-as-new.
// (No time-skipping server here: its binary is not in a registry this
// project reaches, so waits are kept short or cut by a signal; CONTRIBUTING.md.)
import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, inject, it } from 'vitest';
import { backfillWorkflowId, forceRetrySignal, stateQuery, syncLogWorkflowId } from '../src/contract/index.js';
import { namespaceForFile } from './support/names.js';
import {
  backfillRunScript,
  backfillScript,
  BACKFILL_ROWS,
  backoffScript,
  batchScript,
  parentScript,
  QUICK,
  startBackfill,
  startBatch,
  startSyncLog,
  untilTimerStarted,
  waitingScript,
  withWorkers,
  type WorkflowEnv,
} from './support/workflow-scenarios.js';

const env = (instance: string): WorkflowEnv => ({
  address: inject('temporalAddress'),
  namespace: namespaceForFile(import.meta.filename),
  workflowBundle: { codePath: inject('workflowBundlePath') },
  instance: `${instance}${inject('runId')}`,
});

describe('workflows on scripted activities', () => {
  it('backs off up to maximumAttempts, then fails the log as never attempted', async () => {
    const e = env('backoff');
    const script = backoffScript();
    const err = await withWorkers(e, script, async (client) => {
      const handle = await startSyncLog(client, e, 1);
      return handle.result().catch((x: unknown) => x);
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/after 3 attempts/);
    expect(script.calls).toEqual(Array(QUICK.maximumAttempts).fill('applyChange 1'));
    expect(script.failed).toEqual([{ logId: 1, error: expect.stringMatching(/after 3 attempts/), attempted: false }]);
  });

  it('forceRetry cuts an hour-long wait short', async () => {
    const e = env('force');
    const script = waitingScript();
    const result = await withWorkers(e, script, async (client) => {
      const handle = await startSyncLog(client, e, 1);
      await untilTimerStarted(handle);
      expect((await handle.query(stateQuery)).state).toBe('waiting_parent');
      await handle.signal(forceRetrySignal);
      return handle.result();
    });
    expect(result).toEqual({ status: 'synced', detail: 'upserted' });
    expect(script.calls).toEqual(['applyChange 1', 'applyChange 1']);
  });

  it("runs a missing parent's pending log as a child workflow, then carries the row", async () => {
    const e = env('parent');
    const script = parentScript();
    const { result, parent } = await withWorkers(e, script, async (client) => {
      const handle = await startSyncLog(client, e, 10);
      const result = await handle.result();
      const parent = await client.workflow.getHandle(syncLogWorkflowId(e.instance, 11)).describe();
      return { result, parent };
    });
    expect(result.status).toBe('synced');
    expect(parent.status.name).toBe('COMPLETED');
    expect(parent.parentExecution?.workflowId).toBe(syncLogWorkflowId(e.instance, 10));
    // Log 10 first, then its parent, then 10 again (a local activity may run
    // twice when a signal lands in the same workflow task: at least once).
    expect(script.calls.slice(0, 2)).toEqual(['applyChange 10', 'applyChange 11']);
    expect(script.calls.slice(2).every((c) => c === 'applyChange 10')).toBe(true);
    expect(script.calls.length).toBeGreaterThanOrEqual(3);
  });

  it("hands a batch's leftovers to their own syncLogs", async () => {
    const e = env('batch');
    const script = batchScript(e);
    const { result, leftovers } = await withWorkers(e, script, async (client) => {
      const result = await (await startBatch(client, e)).result();
      const leftovers = await Promise.all([22, 23].map((id) => client.workflow.getHandle(syncLogWorkflowId(e.instance, id)).result()));
      return { result, leftovers };
    });
    expect(result).toEqual({ synced: 2, skipped: 0, leftover: 2 });
    expect(leftovers.map((r) => r.status)).toEqual(['synced', 'synced']);
    expect(script.calls.sort()).toEqual(['applyChange 22', 'applyChange 23', 'carryBatch 20-23']);
  });

  it('a backfill continues as new and keeps its progress', async () => {
    const e = env('backfill');
    const { progress, runs } = await withWorkers(e, backfillScript(), async (client) => {
      const progress = await (await startBackfill(client, e)).result();
      let runs = 0;
      for await (const _ of client.workflow.list({ query: `WorkflowId = '${backfillWorkflowId(e.instance, 'users')}'` })) runs++;
      return { progress, runs };
    });
    expect(progress).toMatchObject({ state: 'done', rowsDone: BACKFILL_ROWS, carried: BACKFILL_ROWS, cursor: String(BACKFILL_ROWS) });
    expect(runs).toBe(2);
  });

  it('a backfill started with a run id continues as new by chunk number, with no cursor in its input or progress', async () => {
    const e = env('backfill-run');
    const script = backfillRunScript();
    const { progress, inputs } = await withWorkers(e, script, async (client) => {
      const progress = await (await startBackfill(client, e, 7)).result();
      const inputs: unknown[] = [];
      for await (const wf of client.workflow.list({ query: `WorkflowId = '${backfillWorkflowId(e.instance, 'users')}'` })) {
        const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
        const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
        inputs.push(JSON.parse(Buffer.from(started!.input!.payloads![0]!.data!).toString()));
      }
      return { progress, inputs };
    });
    expect(progress).toMatchObject({ state: 'done', rowsDone: BACKFILL_ROWS, carried: BACKFILL_ROWS, cursor: null, chunks: BACKFILL_ROWS });
    expect(inputs).toHaveLength(2);
    for (const input of inputs) {
      expect(input).toMatchObject({ runId: 7, mapping: 'users' });
      expect(input).not.toHaveProperty('where');
      expect(input).not.toHaveProperty('keys');
      expect((input as { progress?: { cursor: unknown } }).progress?.cursor ?? null).toBeNull();
    }
  });
});
