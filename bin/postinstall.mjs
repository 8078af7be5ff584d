#!/usr/bin/env node
// `npm ci` / `npm install` in a checkout of this project (the `prepare`
// script, which npm does not run when the package is installed into an app,
// so a consumer compiles and downloads nothing): compile dist/ (bin/build.mjs) and
// provision the Temporal CLI into .tools/ (src/temporal/cli-lookup.ts says how).
// Never fails the install: what did not work is said here and again, with
// what to do, when `npm start` or `npm test` needs it.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const build = spawnSync(process.execPath, [path.join(root, 'bin', 'build.mjs')], { stdio: 'inherit' });
if (build.status !== 0) console.log('ferry: building dist/ failed; `ferry` runs from the TypeScript sources instead (slower start)');

/** The lookup lives in one place, wherever src/ keeps it. */
function find(dir, name) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isFile() && entry.name === name) return p;
    if (entry.isDirectory()) {
      const hit = find(p, name);
      if (hit) return hit;
    }
  }
  return undefined;
}

try {
  const { tsImport } = await import('tsx/esm/api');
  const { provisionTemporalCli } = await tsImport(find(path.join(root, 'src'), 'cli-lookup.ts'), import.meta.url);
  const cli = provisionTemporalCli();
  if (cli) console.log(`ferry: Temporal CLI: ${path.relative(root, cli).startsWith('..') ? cli : path.relative(root, cli)}`);
  else console.log('ferry: no Temporal CLI found or installed; the Temporal SDK will try to download one at the first start');
} catch (err) {
  console.log(`ferry: could not provision the Temporal CLI (${err?.message ?? err}); see "Getting the temporal CLI" in docs/operating.md`);
}
