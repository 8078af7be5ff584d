// `npm run histories:save`: runs each workflow scenario of
// workflow-scenarios.ts on a throwaway Temporal dev server and saves its
// history into test/histories/, where test/replay.int.test.ts replays it
// against today's workflow code. Save anew only for a change behind patched()
// (CONTRIBUTING.md); the saved ones stay, as the runs a deploy must not strand.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { backfillWorkflowId, forceRetrySignal } from '../../src/contract/index.js';
import { freePort } from '../../src/net.js';
import { startDevServer } from '../../src/temporal/dev-server.js';
import { WORKFLOWS_PATH } from '../../src/worker/worker.js';
import { writeHistory } from './history-file.js';
import * as s from './workflow-scenarios.js';

const DIR = fileURLToPath(new URL('../histories/', import.meta.url));
const NAMESPACE = 'ferry-histories';

async function save(name: string, handle: WorkflowHandle): Promise<void> {
  const history = await handle.fetchHistory();
  writeHistory(path.join(DIR, `${name}.json`), history);
  console.log(`saved test/histories/${name}.json (${history.events?.length} events)`);
}

const noop = () => {};
const quiet = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };

const server = await startDevServer({ port: await freePort(), headless: true, namespaces: [NAMESPACE] });
try {
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet });
  const env: s.WorkflowEnv = { address: server.address, namespace: NAMESPACE, workflowBundle: bundle, instance: 'hist' };

  // A syncLog asleep on its backoff timer: the run a deploy meets most often.
  await s.withWorkers(env, s.waitingScript(), async (client) => {
    const handle = await s.startSyncLog(client, env, 1);
    await s.untilTimerStarted(handle);
    await save('sync-log-waiting', handle);
    await handle.signal(forceRetrySignal);
    await handle.result();
  });
  await s.withWorkers(env, s.backoffScript(), async (client) => {
    const handle = await s.startSyncLog(client, env, 1);
    await handle.result().catch(() => undefined);
    await save('sync-log-backoff-failed', handle);
  });
  await s.withWorkers(env, s.parentScript(), async (client) => {
    const handle = await s.startSyncLog(client, env, 10);
    await handle.result();
    await save('sync-log-parent-wait', handle);
  });
  await s.withWorkers(env, s.batchScript(env), async (client) => {
    const handle = await s.startBatch(client, env);
    await handle.result();
    await save('sync-batch-leftovers', handle);
  });
  await s.withWorkers(env, s.backfillScript(), async (client) => {
    await (await s.startBackfill(client, env)).result();
    // The latest run: the one that began from a continue-as-new.
    await save('backfill-continued', client.workflow.getHandle(backfillWorkflowId(env.instance, 'users')));
  });
  // A backfill started with a run id (ferry.backfill_inputs): the chunk number, not a key, crosses continue-as-new.
  await s.withWorkers(env, s.backfillRunScript(), async (client) => {
    await (await s.startBackfill(client, env, 1)).result();
    await save('backfill-run-continued', client.workflow.getHandle(backfillWorkflowId(env.instance, 'users')));
  });
} finally {
  await server.stop();
}
