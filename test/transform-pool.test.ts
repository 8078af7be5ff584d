// The transform threads alone (no server): a call past its deadline ends its
// thread and fails alone, the chunk's other calls run again on another thread.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransformPool, type ThreadCall } from '../activities/transform-pool.js';
import type { Mapping } from '../src/config.js';

const MODULE = new URL('./support/thread-transforms.ts', import.meta.url).href;
const echo = { name: 'echo', transformTimeout: 1000 } as Mapping;
const call = (row: Record<string, unknown>): ThreadCall => ({ row, ctx: { op: 'INSERT', logId: 1, mapping: 'echo', parents: {} } });

describe('transform threads', () => {
  let pool: TransformPool;
  beforeAll(async () => {
    pool = new TransformPool(MODULE, 2);
    await pool.start([echo]);
  }, 60_000);
  afterAll(() => pool?.close());

  it('a looping call in a chunk fails by its deadline; the others run (bytes too)', async () => {
    const started = Date.now();
    const outcomes = await pool.run(echo, [call({ id: 1, bytes: Buffer.from('ab') }), call({ id: 2, loop: true }), call({ id: 3 })]);
    expect(outcomes[1]).toEqual({ ended: 'did not finish within 1000 ms (transformTimeout)' });
    expect(outcomes[0]).toEqual({ out: { id: '1', bytes: new Uint8Array(Buffer.from('ab')) } });
    expect(outcomes[2]).toEqual({ out: { id: '3' } });
    expect(Date.now() - started).toBeLessThan(10_000);
    // The pool has its two threads again: two calls at once both answer.
    const [a, b] = await Promise.all([pool.run(echo, [call({ id: 4 })]), pool.run(echo, [call({ id: 5 })])]);
    expect([a, b]).toEqual([[{ out: { id: '4' } }], [{ out: { id: '5' } }]]);
  }, 30_000);

  it('a call that ends its thread fails alone', async () => {
    const outcomes = await pool.run(echo, [call({ id: 6 }), call({ id: 7, exit: true })]);
    expect(outcomes).toEqual([{ out: { id: '6' } }, { ended: 'ended its thread: exit code 3' }]);
  }, 30_000);

  it('a call in flight when the pool stops is not run (retried later, not failed)', async () => {
    const other = new TransformPool(MODULE, 1);
    await other.start([echo]);
    const looping = other.run({ ...echo, transformTimeout: 20_000 }, [call({ id: 8, loop: true })]);
    await other.close();
    expect(await looping).toEqual([{ stopped: true }]);
  }, 60_000);

  it('a module without one of the mappings refuses to start, naming it', async () => {
    const other = new TransformPool(MODULE, 1);
    await expect(other.start([echo, { ...echo, name: 'missing' }])).rejects.toThrow(/has no mapping "missing"/);
  }, 60_000);
});
