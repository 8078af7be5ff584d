import { describe, expect, it } from 'vitest';
import {
  createTriggerStatements,
  deleteStatement,
  insertReturningKeyStatement,
  writeBackStatement,
  quoteTable,
  softDeleteStatement,
  upsertStatement,
} from '../src/statements.js';
import { backoffDelay } from '../src/contract/index.js';

describe('upsertStatement', () => {
  it('writes exactly the returned columns, matched on the key, and skips no-op updates', () => {
    const s = upsertStatement('salesforce.account', 'portal_user_id__c', { portal_user_id__c: '7', name: 'Ada', email__c: null });
    expect(s.text).toBe(
      'INSERT INTO "salesforce"."account" AS t ("portal_user_id__c", "name", "email__c") ' +
        'SELECT r."portal_user_id__c", r."name", r."email__c" FROM jsonb_populate_record(NULL::"salesforce"."account", $1::jsonb) r ' +
        'ON CONFLICT ("portal_user_id__c") DO UPDATE SET "name" = EXCLUDED."name", "email__c" = EXCLUDED."email__c" ' +
        'WHERE ROW(t."name", t."email__c") IS DISTINCT FROM ROW(EXCLUDED."name", EXCLUDED."email__c")',
    );
    expect(s.values).toEqual(['{"portal_user_id__c":"7","name":"Ada","email__c":null}']);
  });

  it('does nothing on conflict when only the key is returned', () => {
    expect(upsertStatement('s.t', 'k', { k: 1 }).text).toBe(
      'INSERT INTO "s"."t" AS t ("k") SELECT r."k" FROM jsonb_populate_record(NULL::"s"."t", $1::jsonb) r ON CONFLICT ("k") DO NOTHING',
    );
  });

  it('sends the row as one JSON document (bytes as bytea hex, bigints as digits) and quotes odd names', () => {
    const s = upsertStatement('s.t', 'k', { k: 10n ** 20n, 'we"ird': { a: [1] }, b: Buffer.from([1, 255]) });
    expect(s.text).toContain('"we""ird"');
    expect(s.values).toEqual(['{"k":"100000000000000000000","we\\"ird":{"a":[1]},"b":"\\\\x01ff"}']);
  });

  it('refuses a row without the key', () => {
    expect(() => upsertStatement('s.t', 'k', { a: 1 })).toThrow('no value for the target key "k"');
  });
});

describe('delete statements', () => {
  it('deletes by key', () => {
    expect(deleteStatement('s.t', 'k', '5')).toEqual({ text: 'DELETE FROM "s"."t" WHERE "k" = $1', values: ['5'] });
  });
  it('soft-deletes by flag, only when not already flagged', () => {
    expect(softDeleteStatement('s.t', 'k', '5', 'isdeleted').text).toBe(
      'UPDATE "s"."t" SET "isdeleted" = true WHERE "k" = $1 AND "isdeleted" IS DISTINCT FROM true',
    );
  });
});

describe('linking statements', () => {
  it('inserts without the key and returns the generated one', () => {
    expect(insertReturningKeyStatement('portal.users', 'id', { id: null, full_name: 'A', email: { x: 1 } })).toEqual({
      text:
        'INSERT INTO "portal"."users" ("full_name", "email") SELECT r."full_name", r."email" ' +
        'FROM jsonb_populate_record(NULL::"portal"."users", $1::jsonb) r RETURNING "id" AS key',
      values: ['{"id":null,"full_name":"A","email":{"x":1}}'],
    });
    expect(insertReturningKeyStatement('s.t', 'id', { id: null }).text).toBe('INSERT INTO "s"."t" DEFAULT VALUES RETURNING "id" AS key');
  });
  it('writes the key back into the origin row', () => {
    expect(writeBackStatement('salesforce.account', 'id', '9', 'portal_user_id__c', 42)).toEqual({
      text: 'UPDATE "salesforce"."account" SET "portal_user_id__c" = $2 WHERE "id" = $1',
      values: ['9', 42],
    });
  });
});

describe('createTriggerStatements', () => {
  const mappings = [
    { name: 'users_to_accounts', key: 'id', target: 'salesforce.account' },
    { name: "o'dd", key: 'id', target: 'x.y' },
  ];
  it('puts one statement trigger per event, passing the channel, then (mapping, key, target) triples', () => {
    const [insert, update, del, truncate] = createTriggerStatements('portal.users', mappings, 'ferry_portal');
    const args = "ferry.capture('ferry_portal', 'users_to_accounts', 'id', 'salesforce.account', 'o''dd', 'id', 'x.y')";
    expect(insert).toBe(
      `CREATE OR REPLACE TRIGGER ferry_log_insert AFTER INSERT ON "portal"."users" REFERENCING NEW TABLE AS ferry_new FOR EACH STATEMENT EXECUTE FUNCTION ${args}`,
    );
    expect(update).toContain('AFTER UPDATE ON "portal"."users" REFERENCING OLD TABLE AS ferry_old NEW TABLE AS ferry_new FOR EACH STATEMENT');
    expect(del).toContain('AFTER DELETE ON "portal"."users" REFERENCING OLD TABLE AS ferry_old FOR EACH STATEMENT');
    expect(truncate).toBe(
      'CREATE OR REPLACE TRIGGER ferry_refuse_truncate BEFORE TRUNCATE ON "portal"."users" FOR EACH STATEMENT EXECUTE FUNCTION ferry.refuse_truncate()',
    );
  });
  it("passes '' as the channel in poll mode", () => {
    expect(createTriggerStatements('portal.users', mappings.slice(0, 1), '')[0]).toContain("ferry.capture('', 'users_to_accounts'");
  });
});

describe('quoteTable', () => {
  it('quotes schema and table apart', () => {
    expect(quoteTable('Sales.Account')).toBe('"Sales"."Account"');
    expect(quoteTable('"My Schema"."a.b""c"')).toBe('"My Schema"."a.b""c"');
  });
});

describe('backoffDelay', () => {
  const policy = { initialInterval: 1000, backoffCoefficient: 2, maximumInterval: 60_000, maximumAttempts: 10 };
  it('grows by the coefficient up to the maximum', () => {
    expect([1, 2, 3, 4, 7, 8].map((a) => backoffDelay(policy, a))).toEqual([1000, 2000, 4000, 8000, 60_000, 60_000]);
  });
});
