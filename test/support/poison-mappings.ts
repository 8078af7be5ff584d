// The poison test's mappings, as a module a transform thread imports by
// itself (transforms.module): what the thread runs is this file's code.
import type { Row } from '../../src/config.js';

/** A value with a class and a toJSON, as a money or decimal library returns. */
class Money {
  constructor(private readonly cents: number) {}
  toJSON(): string {
    return (this.cents / 100).toFixed(2);
  }
}

const transform = (row: Row): Row => {
  const out: Row = { id: String(row.id), kind: row.kind, v: row.v };
  if (row.kind === 'circular') {
    const loop: Row = { id: row.id };
    loop.self = loop;
    out.kind = loop;
  }
  if (row.kind === 'undefined') out.v = undefined;
  if (row.kind === 'nan') out.v = NaN;
  if (row.kind === 'function') out.v = () => row.v;
  if (row.kind === 'money') out.v = new Money(1250);
  // A loop no timer in this thread could end.
  if (row.kind === 'loop') for (;;);
  return out;
};

const mappings = [
  {
    name: 'p',
    source: { table: 'portal.p', key: 'id' },
    target: { table: 'salesforce.p', key: 'id' },
    transform,
    transformTimeout: '5s',
  },
  // Another mapping, synced in the same process while a transform of p loops.
  {
    name: 'q',
    source: { table: 'portal.q', key: 'id' },
    target: { table: 'salesforce.q', key: 'id' },
    transform: (row: Row) => ({ id: String(row.id) }),
  },
];

export default { mappings };
