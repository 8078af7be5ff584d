// ESLint (flat config). Formatting is Prettier's (`npm run format`), not lint's.
// Workflow files get Temporal's recommended restrictions: they are replayed, so
// no Node built-ins or I/O, no clock or randomness outside Temporal's APIs, and
// no promise left floating.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.ferry/', 'test-artifacts/', '**/*.mjs', '**/*.js', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Config modules and JSON rows are untyped by nature; `any` is used on purpose at those edges.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // tsc's noUnusedLocals/noUnusedParameters already say it.
      '@typescript-eslint/no-unused-vars': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['workflows/**/*.ts', 'src/contract/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, 'pg', 'pg-listen', 'pino', 'prom-client', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'].map(
            (name) => ({ name, message: 'workflow code is replayed: no Node built-ins or I/O (do it in an activity)' }),
          ),
          patterns: [
            {
              group: ['../activities/*', '../../activities/*', '../src/*', '!../src/contract', '!../src/contract/*', '../../src/*', '../*.js'],
              message: 'workflows/ and src/contract/ import only src/contract/ (imports go one way)',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'use Temporal time: new Date() inside a workflow is replay-safe' },
        { object: 'Math', property: 'random', message: 'not deterministic: use uuid4() from @temporalio/workflow' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'use sleep() or condition() from @temporalio/workflow' },
        { name: 'setInterval', message: 'use sleep() in a loop from @temporalio/workflow' },
        { name: 'process', message: 'no process state in workflow code' },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
);
