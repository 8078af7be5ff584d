import { fileURLToPath } from 'node:url';
// A type import only (erased when loaded): the image mounts this folder without Ferry's sources.
import type { FerryConfigInput } from '../src/config.js';
import { exampleMappings } from './mappings.js';

export default {
  // DATABASE_URL wins when set; `ferry dev` creates this database when it is missing.
  database: { url: 'postgres://postgres@127.0.0.1:5432/ferry_example' },
  temporal: { address: 'localhost:7233', namespace: 'default', taskQueue: 'ferry' },
  missingParent: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10 },
  dev: { setupSql: [fileURLToPath(new URL('./schema.sql', import.meta.url))] },
  mappings: exampleMappings,
} satisfies FerryConfigInput;
