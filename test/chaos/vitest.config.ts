import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `npm run chaos`: the fault suite. Files run one at a time (each case
// measures a recovery, and they share a 2-core box); each has its own
// database and namespace on the run's Temporal server.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/chaos/**/*.chaos.test.ts'],
    globalSetup: ['test/chaos/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 15 * 60_000,
    hookTimeout: 5 * 60_000,
  },
});
