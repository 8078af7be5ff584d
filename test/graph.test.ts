import { describe, expect, it } from 'vitest';
import { ancestorsOf, dependencyRanks } from '../src/graph.js';

const m = (name: string, ...parents: string[]) => ({ name, parents: parents.map((mapping) => ({ mapping })) });

describe('the graph of mappings', () => {
  const mappings = [m('contacts', 'accounts'), m('accounts', 'accounts', 'orgs'), m('orgs'), m('notes', 'contacts', 'orgs')];

  it("lists each mapping's ancestors transitively, never itself", () => {
    const ancestors = ancestorsOf(mappings);
    expect(ancestors.get('orgs')).toEqual([]);
    expect(ancestors.get('accounts')).toEqual(['orgs']);
    expect([...ancestors.get('contacts')!].sort()).toEqual(['accounts', 'orgs']);
    expect([...ancestors.get('notes')!].sort()).toEqual(['accounts', 'contacts', 'orgs']);
  });

  it('ends on a cycle of mappings', () => {
    const ancestors = ancestorsOf([m('a', 'b'), m('b', 'a')]);
    expect(ancestors.get('a')).toEqual(['b']);
    expect(ancestors.get('b')).toEqual(['a']);
  });

  it('ranks parents before children', () => {
    const ranks = dependencyRanks(mappings);
    expect(ranks.get('orgs')).toBe(0);
    expect(ranks.get('accounts')).toBe(1);
    expect(ranks.get('contacts')).toBe(2);
    expect(ranks.get('notes')).toBe(3);
  });
});
