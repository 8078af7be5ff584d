import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure code: no server, no database, answers in
// seconds; `npm run test:unit`) and `int` (real Postgres and a real Temporal
// dev server that the run starts itself). `npm test` runs both.
// The fault suite runs apart: npm run chaos (test/chaos/vitest.config.ts).
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.int.test.ts', 'test/chaos/**', '**/node_modules/**'],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'int',
          include: ['test/**/*.int.test.ts'],
          exclude: ['test/chaos/**', '**/node_modules/**'],
          // One Temporal dev server for the run (started on free ports), one
          // namespace and one database per test file.
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
