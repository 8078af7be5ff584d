import { describe, expect, it } from 'vitest';
import { syncLogSummary } from '../src/contract/index.js';

describe('a syncLog workflow summary', () => {
  it('names the mapping, the operation and an id-like key', () => {
    expect(syncLogSummary({ mapping: 'users_to_accounts', op: 'UPDATE', rowKey: '42', logId: 7 })).toBe('users_to_accounts UPDATE key 42');
    expect(syncLogSummary({ mapping: 'm', op: 'DELETE', rowKey: '0016g00000AbCdEAAV', logId: 7 })).toBe('m DELETE key 0016g00000AbCdEAAV');
    expect(syncLogSummary({ mapping: 'm', op: 'INSERT', rowKey: '5f0c6a52-1f0e-4b8e-9b65-6f3f3e0f9c11', logId: 7 })).toMatch(/key 5f0c6a52/);
  });

  it('never shows a key that may be personal data', () => {
    expect(syncLogSummary({ mapping: 'people', op: 'INSERT', rowKey: 'ada@example.com', logId: 9 })).toBe('people INSERT log 9');
    expect(syncLogSummary({ mapping: 'people', op: 'INSERT', rowKey: 'Ada Lovelace', logId: 9 })).toBe('people INSERT log 9');
    expect(syncLogSummary({ mapping: 'people', logId: 9 })).toBe('people log 9');
  });
});
