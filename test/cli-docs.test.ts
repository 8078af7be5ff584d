// docs/cli.md is generated from the commander definitions; this fails when
// someone changed a command and did not run `npm run docs:cli`. It also holds
// every command to the same conventions, read from the same definitions.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';

let program: Command;
let renderCliDocs: (program: Command) => string;

beforeAll(async () => {
  // src/cli.ts runs the command line on import unless told it is only read for its definitions.
  process.env.FERRY_CLI_DEFINE_ONLY = '1';
  const [cli, docs] = await Promise.all([import('../src/cli.js'), import('../src/cli/docs.js')]);
  delete process.env.FERRY_CLI_DEFINE_ONLY; // never inherited by a ferry another test spawns
  program = cli.ferryProgram(() => {});
  renderCliDocs = docs.renderCliDocs;
});

describe('the command line reference', () => {
  it('docs/cli.md is what the definitions generate (else: npm run docs:cli)', () => {
    const committed = readFileSync(new URL('../docs/cli.md', import.meta.url), 'utf8');
    expect(committed, 'docs/cli.md is stale: run `npm run docs:cli` and commit it').toBe(renderCliDocs(program));
  });

  it('summaries in one style: a lower-case start, no full stop', () => {
    for (const c of program.commands) {
      expect(c.summary() || c.description(), c.name()).toMatch(/^[a-z]/);
      expect(c.summary() || c.description(), c.name()).not.toMatch(/\.$/);
    }
  });

  it('one name per option: --batch-size wherever a batch is sized, -o and --json wherever a command prints', () => {
    const longs = (c: Command) => c.options.filter((o) => !o.hidden).map((o) => o.long);
    for (const c of program.commands) {
      expect(longs(c), c.name()).not.toContain('--batch');
      const prints = !['start', 'listen', 'worker', 'dev', 'codec-server'].includes(c.name());
      if (prints) expect(longs(c), c.name()).toEqual(expect.arrayContaining(['--output', '--json']));
    }
    for (const name of ['backfill', 'verify', 'prune']) expect(longs(program.commands.find((c) => c.name() === name)!)).toContain('--batch-size');
  });
});
