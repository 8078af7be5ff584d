import { describe, expect, it } from 'vitest';
import { syncLogSummary } from '../src/contract/index.js';

describe('a syncLog workflow summary', () => {
  it('names the mapping, the operation and the log id', () => {
    expect(syncLogSummary({ mapping: 'users_to_accounts', op: 'UPDATE', logId: 7 })).toBe('users_to_accounts UPDATE log 7');
    expect(syncLogSummary({ mapping: 'people', logId: 9 })).toBe('people log 9');
  });

  it('never shows a key, even one that looks like an id (a card or phone number may)', () => {
    for (const rowKey of ['4111111111111111', '0016g00000AbCdEAAV', 'ada@example.com'])
      expect(syncLogSummary({ mapping: 'm', op: 'INSERT', rowKey, logId: 9 } as never)).toBe('m INSERT log 9');
  });
});
