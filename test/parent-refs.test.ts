import { describe, expect, it } from 'vitest';
import { depthLevels, loopMessage, orderLogsParentsFirst, orderParentsFirst } from '../activities/parent-refs.js';
import { parseConfig } from '../src/config.js';

const config = parseConfig(
  {
    database: { url: 'postgres://x/y' },
    mappings: [
      {
        name: 'accounts',
        source: { table: 'portal.accounts', key: 'id' },
        target: { table: 'salesforce.account', key: 'ext_id' },
        transform: () => null,
        parents: [
          { mapping: 'accounts', column: 'parent_id' },
          { mapping: 'contacts', column: 'primary_contact_id', optional: true },
        ],
      },
      {
        name: 'contacts',
        source: { table: 'portal.contacts', key: 'id' },
        target: { table: 'salesforce.contact', key: 'ext_id' },
        transform: () => null,
        parents: [{ mapping: 'accounts', column: 'account_id' }],
      },
    ],
  },
  {},
);

describe('orderParentsFirst', () => {
  // [id, parent ids]
  const order = (items: [string, string[]][]) =>
    orderParentsFirst(
      items,
      (t) => t[0],
      (t) => t[1],
    ).map((t) => t[0]);

  it('puts a deep tree given leaves first into parents-first order', () => {
    expect(
      order([
        ['d', ['c']],
        ['c', ['b']],
        ['b', ['a']],
        ['a', []],
      ]),
    ).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps the given order where nothing references anything, and for parents outside the batch', () => {
    expect(
      order([
        ['x', []],
        ['y', ['gone']],
        ['z', []],
      ]),
    ).toEqual(['x', 'y', 'z']);
  });

  it('places every item of a wide tree after its parent', () => {
    const items: [string, string[]][] = [];
    for (let i = 2000; i >= 1; i--) items.push([String(i), i === 1 ? [] : [String(Math.floor(i / 2))]]);
    const out = orderParentsFirst(
      items,
      (t) => t[0],
      (t) => t[1],
    );
    const at = new Map(out.map((t, i) => [t[0], i]));
    expect(out).toHaveLength(2000);
    for (const [id, [parent]] of items) if (parent) expect(at.get(parent)!).toBeLessThan(at.get(id)!);
  });

  it('handles a 20,000-long chain without deep recursion', () => {
    const n = 20_000;
    const items = Array.from({ length: n }, (_, i) => [String(n - i), n - i > 1 ? [String(n - i - 1)] : []] as [string, string[]]);
    const out = orderParentsFirst(
      items,
      (t) => t[0],
      (t) => t[1],
    );
    expect(out[0]![0]).toBe('1');
    expect(out.at(-1)![0]).toBe(String(n));
  });

  it('keeps rows of a loop, each once', () => {
    expect(
      order([
        ['a', ['b']],
        ['b', ['a']],
        ['c', ['a']],
      ]),
    ).toEqual(['b', 'a', 'c']);
  });

  it('keeps several logs of one row together after its parent', () => {
    expect(
      order([
        ['k', ['p']],
        ['k', ['p']],
        ['p', []],
      ]),
    ).toEqual(['p', 'k', 'k']);
  });
});

describe('depthLevels', () => {
  const levels = (items: [string, string[]][]) =>
    depthLevels(
      items,
      (t) => t[0],
      (t) => t[1],
    ).map((l) => l.map((t) => t[0]));

  it('puts a tree given leaves first into levels, roots first, each level in the given order', () => {
    expect(
      levels([
        ['d2', ['c']],
        ['d1', ['c']],
        ['c', ['b']],
        ['e', ['b']],
        ['b', ['a']],
        ['a', []],
      ]),
    ).toEqual([['a'], ['b'], ['c', 'e'], ['d2', 'd1']]);
  });

  it('keeps everything in one level where nothing references anything in the set', () => {
    expect(
      levels([
        ['x', []],
        ['y', ['gone']],
        ['z', ['z']],
      ]),
    ).toEqual([['x', 'y', 'z']]);
  });

  it('places a row one level below its deepest parent, and several logs of one row together', () => {
    expect(
      levels([
        ['k', ['p', 'q']],
        ['q', ['p']],
        ['k', ['p', 'q']],
        ['p', []],
      ]),
    ).toEqual([['p'], ['q'], ['k', 'k']]);
  });

  it('gives each row of a loop a level, each once', () => {
    expect(
      levels([
        ['a', ['b']],
        ['b', ['a']],
        ['c', ['a']],
      ])
        .flat()
        .sort(),
    ).toEqual(['a', 'b', 'c']);
  });

  it('handles a 20,000-long chain', () => {
    const n = 20_000;
    const items = Array.from({ length: n }, (_, i) => [String(n - i), n - i > 1 ? [String(n - i - 1)] : []] as [string, string[]]);
    const out = depthLevels(
      items,
      (t) => t[0],
      (t) => t[1],
    );
    expect(out).toHaveLength(n);
    expect(out[0]![0]![0]).toBe('1');
  });
});

describe('orderLogsParentsFirst', () => {
  it("reads parents from each log's row, across mappings, optional ones included", () => {
    const logs = [
      { mapping: 'contacts', row_key: '5', new_row: { id: 5, account_id: 2 } },
      { mapping: 'accounts', row_key: '2', new_row: { id: 2, parent_id: 1, primary_contact_id: null } },
      { mapping: 'accounts', row_key: '9', new_row: null }, // a delete
      { mapping: 'accounts', row_key: '1', new_row: { id: 1, parent_id: null } },
    ];
    expect(orderLogsParentsFirst(config, logs, (l) => l.new_row).map((l) => `${l.mapping}:${l.row_key}`)).toEqual([
      'accounts:1',
      'accounts:2',
      'contacts:5',
      'accounts:9',
    ]);
  });
});

describe('loopMessage', () => {
  it('names the loop and the required references in it', () => {
    expect(
      loopMessage(config, [
        { mapping: 'accounts', key: '7' },
        { mapping: 'accounts', key: '9' },
        { mapping: 'accounts', key: '7' },
      ]),
    ).toBe('accounts key 7 -> accounts key 9 -> accounts key 7: rows reference each other; make one reference optional (accounts.parent_id)');
    expect(
      loopMessage(config, [
        { mapping: 'contacts', key: '5' },
        { mapping: 'accounts', key: '2' },
        { mapping: 'accounts', key: '3' },
        { mapping: 'contacts', key: '5' },
      ]),
    ).toBe(
      'contacts key 5 -> accounts key 2 -> accounts key 3 -> contacts key 5: rows reference each other; make one reference optional (contacts.account_id or accounts.parent_id)',
    );
  });
});
