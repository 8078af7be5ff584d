import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { workerV8Flags } from '../src/worker/heap.js';

describe('worker V8 flags', () => {
  it('sets both by default, and leaves a flag given on the command line or in NODE_OPTIONS', () => {
    expect(workerV8Flags('')).toEqual(['--heap-growing-percent=50', '--max-semi-space-size=4']);
    expect(workerV8Flags('--max-semi-space-size=16')).toEqual(['--heap-growing-percent=50']);
    expect(workerV8Flags('--enable-source-maps --heap_growing_percent=100')).toEqual(['--max-semi-space-size=4']);
  });

  it('names flags this Node knows (setFlagsFromString ignores an unknown one with a message)', () => {
    const run = spawnSync(process.execPath, [...workerV8Flags(''), '-e', '0'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
