// ARCHITECTURE.md is a map; a map that names a file that is gone, or leaves a
// folder out, misleads the next reader. This keeps it true.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MAP = readFileSync(path.join(ROOT, 'ARCHITECTURE.md'), 'utf8');
/** Folders whose files are the project's own source (and its tests, benches, SQL). */
const SOURCE_ROOTS = ['src', 'activities', 'workflows', 'sql', 'bin', 'bench', 'example', 'test'];
const FILE = /\.(ts|mjs|sql|md|json|yml)$/;

function foldersUnder(dir: string): string[] {
  const subs = readdirSync(path.join(ROOT, dir))
    .map((name) => path.join(dir, name))
    .filter((rel) => statSync(path.join(ROOT, rel)).isDirectory());
  return [dir, ...subs.flatMap(foldersUnder)];
}

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    return statSync(path.join(ROOT, rel)).isDirectory() ? filesUnder(rel) : [rel];
  });
}

/**
 * Every `code span` of the map that reads as a repository path: it has a slash
 * or a file extension (not a URL path such as `/metrics`, not a glob, not `.ts`,
 * not an npm package such as `@temporalio/envconfig`).
 */
function namedPaths(): string[] {
  const spans = [...MAP.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!);
  return [...new Set(spans.filter((s) => !/^[/*.@]/.test(s) && (s.includes('/') || FILE.test(s))))];
}

describe('ARCHITECTURE.md', () => {
  it('names only paths that exist', () => {
    const files = SOURCE_ROOTS.flatMap(filesUnder);
    const missing = namedPaths().filter((p) =>
      p.includes('/') ? !existsSync(path.join(ROOT, p)) : !files.some((f) => path.basename(f) === p) && !existsSync(path.join(ROOT, p)),
    );
    expect(missing).toEqual([]);
  });

  it('names every source folder', () => {
    const folders = SOURCE_ROOTS.flatMap(foldersUnder).map((f) => `${f.split(path.sep).join('/')}/`);
    expect(folders.filter((f) => !MAP.includes(`\`${f}`))).toEqual([]);
  });
});
