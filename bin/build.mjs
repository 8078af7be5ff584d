#!/usr/bin/env node
// Compiles src/, workflows/ and activities/ to dist/ (one .js per .ts, same
// layout, so relative imports and `new URL('../sql/', import.meta.url)` keep
// working) and prebuilds the Temporal workflow bundle, so `ferry` starts
// without a TypeScript loader or a bundler. Incremental: does nothing when
// dist/ is newer than every source. `--force` rebuilds anyway. `--pack`
// (npm's prepack) makes the tarball's dist/: sql/ copied in rather than
// linked, and the type declarations of the public entry in dist/types/.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
const SOURCE_DIRS = ['src', 'workflows', 'activities'];
const STAMP = path.join(dist, '.built');
const BUNDLE = path.join(dist, 'workflow-bundle.js');

function sources(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(file));
    else if (/\.(ts|mts|js|mjs|cjs|json)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(file);
  }
  return out;
}

const files = SOURCE_DIRS.filter((d) => existsSync(path.join(root, d))).flatMap((d) => sources(path.join(root, d)));
const newest = Math.max(...files.map((f) => statSync(f).mtimeMs), statSync(fileURLToPath(import.meta.url)).mtimeMs);
const pack = process.argv.includes('--pack');
const force = pack || process.argv.includes('--force');
if (!force && existsSync(STAMP) && existsSync(BUNDLE) && statSync(STAMP).mtimeMs >= newest) process.exit(0);

const started = performance.now();
rmSync(dist, { recursive: true, force: true });
const esbuild = await import('esbuild');
await esbuild.build({
  entryPoints: files.filter((f) => /\.(ts|mts)$/.test(f)),
  outbase: root,
  outdir: dist,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
// CommonJS modules the Temporal SDK require()s by path (the codec's failure converter), as they are.
for (const f of files.filter((f) => f.endsWith('.cjs'))) cpSync(f, path.join(dist, path.relative(root, f)));
// Files the compiled code reaches relative to itself, as the sources do.
if (pack) cpSync(path.join(root, 'sql'), path.join(dist, 'sql'), { recursive: true });
for (const name of pack ? [] : ['sql', '.tools']) {
  mkdirSync(path.join(root, name), { recursive: true });
  symlinkSync(path.join('..', name), path.join(dist, name));
}
if (pack) {
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.types.json'], {
    cwd: root,
    encoding: 'utf8',
  });
  // TS4094 (a private member of a class a factory returns) is internal code the public types never name.
  const errors = tsc.stdout.split('\n').filter((l) => l.includes('error TS') && !l.includes('error TS4094'));
  if (errors.length > 0 || !existsSync(path.join(dist, 'types', 'src', 'index.d.ts'))) {
    console.error(errors.join('\n') || tsc.stdout);
    process.exit(1);
  }
}
writeFileSync(path.join(dist, 'package.json'), '{ "type": "module" }\n');

// The worker loads this instead of bundling workflows/ at every start (seconds).
const { bundleWorkflowCode } = await import('@temporalio/worker');
const noop = () => {};
const bundleOptions = {
  workflowsPath: path.join(root, 'workflows', 'index.ts'),
  logger: { trace: noop, debug: noop, info: noop, log: noop, warn: console.warn, error: console.error },
};
writeFileSync(BUNDLE, (await bundleWorkflowCode(bundleOptions)).code);
// With temporal.codec on, workflow code's own failures keep their messages in an encoded payload too.
const failureConverterPath = path.join(root, 'src', 'temporal', 'failure-converter.cjs');
writeFileSync(path.join(dist, 'workflow-bundle-codec.js'), (await bundleWorkflowCode({ ...bundleOptions, failureConverterPath })).code);
writeFileSync(STAMP, new Date().toISOString() + '\n');
console.log(`ferry: built dist/ (${files.length} files and the workflow bundles) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
