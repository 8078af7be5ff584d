import { describe, expect, it } from 'vitest';
import { openOwnWrite, seal } from '../src/capture/wal/own-writes.js';

const key = Buffer.alloc(32, 7);
const sealed = (xid: number, origin: string, k = key) => `${origin};${seal(k, xid, origin).toString('hex')}`;

describe("Ferry's own-write seal (WAL mode echo suppression)", () => {
  it('opens a seal made with the key over the same transaction id', () => {
    expect(openOwnWrite(sealed(42, 'salesforce.account,portal.users'), 42, key)).toEqual({ tables: ['salesforce.account', 'portal.users'] });
    expect(openOwnWrite(sealed(42, ''), 42, key)).toEqual({ tables: [] });
  });

  it('refuses a message without a seal, of another transaction, with other tables, or under another key', () => {
    expect(openOwnWrite('salesforce.account', 42, key)).toBeUndefined();
    expect(openOwnWrite(sealed(41, 'salesforce.account'), 42, key)).toBeUndefined();
    expect(openOwnWrite(sealed(42, 'salesforce.account').replace('salesforce.account', 'salesforce.contact'), 42, key)).toBeUndefined();
    expect(openOwnWrite(sealed(42, 'salesforce.account', Buffer.alloc(32, 8)), 42, key)).toBeUndefined();
    expect(openOwnWrite(`salesforce.account;${'0'.repeat(64)}`, 42, key)).toBeUndefined();
    expect(openOwnWrite(sealed(42, 'salesforce.account'), 42, undefined)).toBeUndefined();
  });
});
