import { describe, expect, it } from 'vitest';
import { valueProblem } from '../activities/row-values.js';

describe('valueProblem', () => {
  it('accepts what Ferry writes as it is', () => {
    for (const v of [null, 'a', 0, -1.5, true, 10n, new Date(0), Buffer.from([1]), [1, 'a', null], { a: { b: [1] }, skip: undefined }])
      expect(valueProblem(v)).toBeUndefined();
  });
  it('names what JSON would change or cannot hold, and where', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(valueProblem(undefined)?.what).toMatch(/^undefined/);
    expect(valueProblem(NaN)).toEqual({ what: 'NaN', path: '' });
    expect(valueProblem({ a: [1, Infinity] })).toEqual({ what: 'Infinity', path: '.a[1]' });
    expect(valueProblem([undefined])?.path).toBe('[0]');
    expect(valueProblem(loop)).toEqual({ what: 'a circular reference', path: '.self' });
    expect(valueProblem(() => 1)?.what).toBe('a function');
    expect(valueProblem(new Date(NaN))?.what).toBe('an invalid Date');
  });
});
