#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm ci`); in a checkout without it
// (`npm ci --ignore-scripts`), the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
