import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import setup from '../support/global-setup.js';
import { reportTable } from '../support/recovery.js';

/** The test suite's set-up, plus a report file every case adds its recovery figures to; printed as a table at the end. */
export default async function chaosSetup(project: TestProject) {
  const file = path.join(os.tmpdir(), `ferry-chaos-${process.pid}.jsonl`);
  project.provide('chaosReport', file);
  const startedAt = Date.now();
  const teardown = await setup(project);
  return async () => {
    console.log(`\nFault suite, ${((Date.now() - startedAt) / 60_000).toFixed(1)} min:\n${reportTable(file)}\n`);
    await teardown();
  };
}
