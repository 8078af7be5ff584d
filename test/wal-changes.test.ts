// WAL capture's pure parts: pgoutput decoding and the trigger's rules on a
// decoded change (the int test compares whole logs with trigger mode's).
import { describe, expect, it } from 'vitest';
import { logEntries, type Relation } from '../src/capture/wal/changes.js';
import { slotName } from '../src/capture/wal/names.js';
import { decodePgOutput, formatLsn, parseLsn } from '../src/capture/wal/pgoutput.js';

const users: Relation = {
  id: 1,
  table: 'portal.users',
  columns: [
    { name: 'id', typeOid: 23, typeMod: -1 },
    { name: 'name', typeOid: 25, typeMod: -1 },
  ],
};
const toAccounts = { name: 'users_to_accounts', key: 'id', target: 'salesforce.account' };
const change = (op: 'INSERT' | 'UPDATE' | 'DELETE', old: (string | null)[] | null, next: (string | null)[] | null, origin: string[] | null = null) =>
  logEntries({ relation: users, op, old, new: next, origin }, [toAccounts]).map((e) => [e.op, e.rowKey, e.image]);

describe('the rules of capture on a decoded change', () => {
  it('logs an INSERT without an image, a DELETE with the row before', () => {
    expect(change('INSERT', null, ['1', 'a'])).toEqual([['INSERT', '1', null]]);
    expect(change('DELETE', ['1', 'a'], null)).toEqual([['DELETE', '1', ['1', 'a']]]);
  });
  it('logs nothing for an UPDATE that changes nothing, or a NULL key', () => {
    expect(change('UPDATE', ['1', 'a'], ['1', 'a'])).toEqual([]);
    expect(change('INSERT', null, [null, 'a'])).toEqual([]);
  });
  it('logs a key change as DELETE of the old key then UPDATE of the new; from a NULL key, an INSERT', () => {
    expect(change('UPDATE', ['1', 'a'], ['2', 'a'])).toEqual([
      ['DELETE', '1', ['1', 'a']],
      ['UPDATE', '2', ['1', 'a']],
    ]);
    expect(change('UPDATE', [null, 'a'], ['3', 'a'])).toEqual([['INSERT', '3', null]]);
  });
  it("takes an unchanged TOAST value from the old image, and skips Ferry's own write back to its origin", () => {
    expect(logEntries({ relation: users, op: 'UPDATE', old: ['1', 'a'], new: ['1', { unchanged: true }], origin: null }, [toAccounts])).toEqual([]);
    expect(change('INSERT', null, ['1', 'a'], ['salesforce.account'])).toEqual([]);
  });
});

describe('pgoutput', () => {
  it('decodes begin, insert and a transactional message', () => {
    const begin = Buffer.alloc(21);
    begin.write('B', 0);
    begin.writeBigUInt64BE(0x1_0000_0010n, 1);
    begin.writeBigUInt64BE(5n, 9);
    begin.writeUInt32BE(777, 17);
    expect(decodePgOutput(begin)).toEqual({ tag: 'begin', finalLsn: 0x1_0000_0010n, commitTime: 5n, xid: 777 });
    const text = Buffer.from('42');
    const insert = Buffer.concat([
      Buffer.from('I'),
      Buffer.from([0, 0, 0, 1]),
      Buffer.from('N'),
      Buffer.from([0, 2]),
      Buffer.from('n'),
      Buffer.from('t'),
      Buffer.from([0, 0, 0, 2]),
      text,
    ]);
    expect(decodePgOutput(insert)).toEqual({ tag: 'insert', relationId: 1, new: [null, '42'] });
    const msg = Buffer.concat([
      Buffer.from('M'),
      Buffer.from([1]),
      Buffer.alloc(8),
      Buffer.from('ferry.origin\0'),
      Buffer.from([0, 0, 0, 3]),
      Buffer.from('a.b'),
    ]);
    expect(decodePgOutput(msg)).toMatchObject({ tag: 'message', transactional: true, prefix: 'ferry.origin', content: 'a.b' });
  });
  it('writes and reads LSNs as Postgres does', () => {
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
  });
  it('names a slot validly whatever the instance is called', () => {
    expect(slotName('shop')).toBe('ferry_shop');
    expect(slotName('My-Shop')).toMatch(/^ferry_my_shop_[0-9a-f]{8}$/);
    expect(slotName('x'.repeat(80)).length).toBeLessThanOrEqual(63);
  });
});
