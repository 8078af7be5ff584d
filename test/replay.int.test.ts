// Every saved history in test/histories/ must replay on today's workflow
// code: a deploy that cannot replay them would strand every run asleep on a
// durable timer with a non-determinism error. CONTRIBUTING.md has the rule;
// `npm run histories:save` writes the histories.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../src/logger.js';
import { installRuntime } from '../src/worker/worker.js';
import { readHistory } from './support/history-file.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIR = path.join(ROOT, 'test/histories');
const SAVED = readdirSync(DIR).filter((f) => f.endsWith('.json'));
const noop = () => {};
const quiet = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

describe('saved workflow histories', () => {
  it('include a waiting syncLog, a parent wait, a batch with leftovers and a continued backfill (with and without a run id)', () => {
    expect(SAVED).toEqual(
      expect.arrayContaining([
        'sync-log-waiting.json',
        'sync-log-parent-wait.json',
        'sync-batch-leftovers.json',
        'backfill-continued.json',
        'backfill-run-continued.json',
      ]),
    );
  });

  it('replay on the workflow code of this commit', async () => {
    await installRuntime(silentLogger);
    const histories = SAVED.map((f) => ({ workflowId: f, history: readHistory(path.join(DIR, f)) }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories)) {
      replayed++;
      if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(SAVED.length);
  });

  // Copies of the workflow code elsewhere, resolving the same packages.
  const copies: string[] = [];
  afterAll(() => copies.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  /** Today's workflows with `sleep` imported and `change` put before syncLog's first attempt. */
  async function bundleWithChange(change: string, imports: string) {
    const copy = mkdtempSync(path.join(os.tmpdir(), 'ferry-replay-'));
    copies.push(copy);
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    cpSync(path.join(ROOT, 'workflows'), path.join(copy, 'workflows'), { recursive: true });
    cpSync(path.join(ROOT, 'src/contract'), path.join(copy, 'src/contract'), { recursive: true });
    const file = path.join(copy, 'workflows/sync-log.ts');
    const changed = readFileSync(file, 'utf8')
      .replace('  condition,\n', `  condition,\n${imports}`)
      .replace('  for (;;) {\n', `  ${change}\n  for (;;) {\n`);
    expect(changed).toContain(change);
    writeFileSync(file, changed);
    return bundleWorkflowCode({ workflowsPath: path.join(copy, 'workflows/index.ts'), logger: quiet });
  }

  it('fail to replay when sync-log.ts changes its commands without patched()', async () => {
    await installRuntime(silentLogger);
    // An innocent-looking change: a short sleep before the first attempt.
    const bundle = await bundleWithChange("await sleep('1ms');", '  sleep,\n');
    const history = readHistory(path.join(DIR, 'sync-log-waiting.json'));
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, 'sync-log-waiting')).rejects.toBeInstanceOf(DeterminismViolationError);
  });

  it('replay when the same change goes behind patched()', async () => {
    await installRuntime(silentLogger);
    const bundle = await bundleWithChange("if (patched('sleep-first')) await sleep('1ms');", '  patched,\n  sleep,\n');
    const histories = SAVED.map((f) => ({ workflowId: f, history: readHistory(path.join(DIR, f)) }));
    const failures: string[] = [];
    for await (const r of Worker.runReplayHistories({ workflowBundle: bundle }, histories))
      if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
    expect(failures).toEqual([]);
  });
});
