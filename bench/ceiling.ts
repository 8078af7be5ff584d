import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type InjectedSinks } from '@temporalio/worker';
import type { BenchSinks } from './empty-workflow.js';

const EMPTY_WORKFLOW_PATH = fileURLToPath(new URL('./empty-workflow.ts', import.meta.url));
const noop = () => {};
export const quietBundlerLogger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };

export interface CeilingResult {
  workflows: number;
  perSec: number;
}

/**
 * The same Temporal server's rate for a workflow that does nothing: started
 * `count` times with `concurrency` starts in flight (as Ferry's dispatcher
 * does), run by a worker of its own on its own task queue. One workflow per
 * change cannot go faster than this.
 */
export async function runCeiling(address: string, count: number, concurrency: number, workerOptions: object): Promise<CeilingResult> {
  const bundle = await bundleWorkflowCode({ workflowsPath: EMPTY_WORKFLOW_PATH, logger: quietBundlerLogger });
  let completed = 0;
  let allDone!: () => void;
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const sinks: InjectedSinks<BenchSinks> = {
    bench: { done: { fn: () => void (++completed === count && allDone()), callDuringReplay: false } },
  };
  const taskQueue = 'bench-empty';
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  try {
    const worker = await Worker.create({ ...workerOptions, connection: nativeConnection, taskQueue, workflowBundle: bundle, sinks });
    const running = worker.run();
    try {
      const client = new Client({ connection });
      const t0 = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let i = next++; i < count; i = next++)
            await client.workflow.start('emptyWorkflow', { taskQueue, workflowId: `bench-empty-${process.pid}-${i}` });
        }),
      );
      await withTimeout(finished, 60_000 + count * 50, 'empty workflows to finish');
      return { workflows: count, perSec: count / ((performance.now() - t0) / 1000) };
    } finally {
      worker.shutdown();
      await running;
    }
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
}

function withTimeout<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs))),
  ]);
}
