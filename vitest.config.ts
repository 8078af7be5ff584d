import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault suite runs apart: npm run chaos (test/chaos/vitest.config.ts).
    exclude: ['test/chaos/**', '**/node_modules/**'],
    // One Temporal dev server for the run (started on free ports), one
    // namespace and one database per test file.
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
