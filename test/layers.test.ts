// Imports go one way: workflows/ -> src/contract <- activities/ <- src/.
// The contract and the database helpers import nothing of the layers above them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    return statSync(path.join(ROOT, rel)).isDirectory() ? filesUnder(rel) : rel.endsWith('.ts') ? [rel] : [];
  });
}

/** What each file imports: project files as repo-relative paths, packages as they are named. */
function importsOf(file: string): string[] {
  const source = readFileSync(path.join(ROOT, file), 'utf8');
  const specs = [
    ...source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm),
    ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specs.map((s) => (s.startsWith('.') ? path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), s)) : s));
}

interface Layer {
  dir: string;
  /** Project folders and packages (prefixes) its files may import. */
  may: string[];
}

const LAYERS: Layer[] = [
  { dir: 'workflows', may: ['workflows/', 'src/contract/', '@temporalio/workflow', '@temporalio/common'] },
  { dir: 'src/contract', may: ['src/contract/', '@temporalio/workflow', '@temporalio/common'] },
  { dir: 'src/db', may: ['src/db/', 'src/contract/', 'pg'] },
  {
    dir: 'activities',
    may: [
      'activities/',
      'src/contract/',
      'src/db/',
      'src/config',
      'src/graph',
      'src/statements',
      'src/table-name',
      'src/where',
      '@temporalio/activity',
      '@temporalio/common',
      'node:',
    ],
  },
];

describe('imports go one way', () => {
  for (const layer of LAYERS) {
    it(`${layer.dir}/ imports only ${layer.may.join(', ')}`, () => {
      const bad = filesUnder(layer.dir).flatMap((file) =>
        importsOf(file)
          .filter((spec) => !layer.may.some((ok) => spec === ok || spec.startsWith(ok)))
          .map((spec) => `${file} imports ${spec}`),
      );
      expect(bad).toEqual([]);
    });
  }

  it('nothing outside workflows/ imports it (the worker bundles it by path)', () => {
    const dirs = ['src', 'activities', 'bench', 'example', 'test'];
    const bad = dirs.flatMap((d) =>
      filesUnder(d).flatMap((f) =>
        importsOf(f)
          .filter((s) => s.startsWith('workflows/'))
          .map((s) => `${f} imports ${s}`),
      ),
    );
    expect(bad).toEqual([]);
  });
});
