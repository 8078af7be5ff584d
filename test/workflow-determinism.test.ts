// Workflow code is replayed: it must not do I/O or read the clock or a random
// source except through Temporal's APIs. The bundler rejects Node built-ins;
// this catches the rest before a worker does. Which project files a workflow
// may import (only src/contract/) is test/layers.test.ts' job.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../workflows/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

const forbidden: [RegExp, string][] = [
  [/from '(node:[a-z_/]+|fs|path|os|crypto|child_process|http|net|pg|pg-listen|pino|prom-client)'/, 'I/O module'],
  [/\bDate\.now\(|\bMath\.random\(|\bsetTimeout\(|\bsetInterval\(/, 'clock, randomness or timers outside Temporal'],
];

describe('workflows/', () => {
  it.each(files)('%s is deterministic', (file) => {
    const lines = readFileSync(dir + file, 'utf8').split('\n');
    const problems = lines.flatMap((line, i) =>
      forbidden.filter(([re]) => re.test(line) && !(/^\s*import type /.test(line) && !/node:/.test(line))).map(([, why]) => `${file}:${i + 1}: ${why}: ${line.trim()}`),
    );
    expect(problems).toEqual([]);
  });
});
