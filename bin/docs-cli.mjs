#!/usr/bin/env node
// Writes docs/cli.md from the CLI's definitions (`npm run docs:cli`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { register } from 'tsx/esm/api';

register();
// src/cli.ts runs the command line on import unless told it is only read for its definitions.
process.env.FERRY_CLI_DEFINE_ONLY = '1';
const [{ ferryProgram }, { renderCliDocs }] = await Promise.all([import('../src/cli.ts'), import('../src/cli/docs.ts')]);
const file = new URL('../docs/cli.md', import.meta.url);
mkdirSync(new URL('.', file), { recursive: true });
writeFileSync(file, renderCliDocs(ferryProgram(() => {})));
console.log('wrote docs/cli.md');
