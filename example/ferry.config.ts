import { fileURLToPath } from 'node:url';
import { defineConfig } from '../src/config.js';
import { exampleMappings } from './mappings.js';

export default defineConfig({
  // DATABASE_URL wins when set; `ferry dev` creates this database when it is missing.
  database: { url: 'postgres://postgres@127.0.0.1:5432/ferry_example' },
  temporal: { address: 'localhost:7233', namespace: 'default', taskQueue: 'ferry' },
  missingParent: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10 },
  dev: { setupSql: [fileURLToPath(new URL('./schema.sql', import.meta.url))] },
  mappings: exampleMappings,
});
