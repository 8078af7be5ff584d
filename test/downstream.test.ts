import { describe, expect, it } from 'vitest';
import { errorMessage, formatDownstream } from '../src/operate/downstream.js';

describe('downstream status, as a person reads it', () => {
  it("reads Heroku Connect's JSON _hc_err as its msg, and other text as it is", () => {
    expect(errorMessage('{"op":"INSERT","src":"SFDC","msg":"REQUIRED_FIELD_MISSING: Name"}')).toBe('REQUIRED_FIELD_MISSING: Name');
    expect(errorMessage('{"op":"INSERT"}')).toBe('{"op":"INSERT"}');
    expect(errorMessage('plain words')).toBe('plain words');
    expect(errorMessage(null)).toBe('(no error given)');
  });

  it('prints nothing without a downstream mapping; the counts, reasons, rows and the retry command with one', () => {
    expect(formatDownstream([])).toEqual([]);
    const err = '{"msg":"INVALID_EMAIL_ADDRESS: Email"}';
    expect(
      formatDownstream([
        {
          mapping: 'users_to_accounts',
          delivered: 9,
          pending: 2,
          rejected: 1,
          reasons: [{ error: err, rows: 1 }],
          rejections: [{ key: '42', error: err }],
        },
      ]),
    ).toEqual([
      '',
      'Downstream (what the far side did with the rows Ferry wrote):',
      '  users_to_accounts  delivered 9  pending 2  rejected 1',
      '    1 rejected: INVALID_EMAIL_ADDRESS: Email',
      '    key 42: INVALID_EMAIL_ADDRESS: Email',
      '  Send the rejected rows again after a fix:  ferry retry --downstream-rejected [--mapping NAME]',
    ]);
  });
});
