// The compiled Ferry (dist/) loading a `.ts` config: required through tsx's
// CommonJS hook (no loader thread), or imported through its ES module hook
// when the module cannot be required (top-level await).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let dir: string;

beforeAll(() => {
  execFileSync(process.execPath, [path.join(ROOT, 'bin', 'build.mjs')], { stdio: 'ignore' });
  dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-import-module-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(path.join(dir, 'mappings.ts'), `export const names: string[] = ['a', 'b'];\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Loads `file` with dist's importConfigModule in a fresh process: its default export's `names`. */
function load(file: string): { names: string[] } {
  const loader = pathToFileURL(path.join(ROOT, 'dist', 'src', 'config', 'import-module.js')).href;
  const script = `
    const { importConfigModule } = await import(${JSON.stringify(loader)});
    const config = await importConfigModule(${JSON.stringify(pathToFileURL(file).href)});
    console.log(JSON.stringify({ names: config.names }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' }).trim());
}

describe('a compiled Ferry loading a .ts config', () => {
  it('requires it through the CommonJS hook, import.meta.url and relative imports included', () => {
    const file = path.join(dir, 'plain.config.ts');
    writeFileSync(
      file,
      `import { names } from './mappings.js';\nconst here: string = import.meta.url;\nexport default { names: here.endsWith('plain.config.ts') ? names : [] };\n`,
    );
    expect(load(file).names).toEqual(['a', 'b']);
  });

  it('imports one with top-level await through the ES module hook', () => {
    const file = path.join(dir, 'tla.config.ts');
    writeFileSync(file, `const names: string[] = await Promise.resolve(['c']);\nexport default { names };\n`);
    expect(load(file).names).toEqual(['c']);
  });
});
