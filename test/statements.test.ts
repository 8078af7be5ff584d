import { describe, expect, it } from 'vitest';
import {
  captureFunctionName,
  createTriggerStatements,
  dropTriggerStatements,
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
    { name: "o'dd", key: 'i"d', target: 'x.y' },
  ];
  const fn = captureFunctionName('portal.users');
  it('writes the table its own capture function, then one statement trigger per event calling it', () => {
    const [create, insert, update, del, truncate] = createTriggerStatements('portal.users', mappings, 'ferry_portal');
    expect(fn).toMatch(/^ferry\."capture_portal_users_[0-9a-f]{8}"$/);
    expect(create).toMatch(
      new RegExp(
        `^CREATE OR REPLACE FUNCTION ${fn.replace(/[.$"]/g, '\\$&')}\\(\\) RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS \\$ferry\\$`,
      ),
    );
    // Each mapping logs with its own name, key and echo check, quoted.
    expect(create).toContain(`SELECT 'users_to_accounts', ferry_src, 'INSERT', ferry_n."id"::text FROM ferry_new ferry_n`);
    expect(create).toContain(`SELECT 'o''dd', ferry_src, 'INSERT', ferry_n."i""d"::text FROM ferry_new ferry_n`);
    expect(create).toContain(`NOT ('x.y' = ANY (ferry_origin))`);
    // A row whose key is NULL is outside its mapping: no log (the write succeeds); a key given is an INSERT.
    expect(create).toContain(`FROM ferry_new ferry_n WHERE ferry_n."i""d" IS NOT NULL`);
    expect(create).toContain(`FROM ferry_old ferry_o WHERE ferry_o."i""d" IS NOT NULL`);
    expect(create).toContain(`CASE WHEN ferry_p.old_key IS NULL THEN 'INSERT' ELSE 'UPDATE' END`);
    expect(create).toContain(`WHERE ferry_c.row_key IS NOT NULL`);
    expect(create).toContain(`PERFORM pg_notify('ferry_portal', '')`);
    expect(insert).toBe(
      `CREATE OR REPLACE TRIGGER ferry_log_insert AFTER INSERT ON "portal"."users" REFERENCING NEW TABLE AS ferry_new FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
    );
    expect(update).toContain('AFTER UPDATE ON "portal"."users" REFERENCING OLD TABLE AS ferry_old NEW TABLE AS ferry_new FOR EACH STATEMENT');
    expect(del).toContain('AFTER DELETE ON "portal"."users" REFERENCING OLD TABLE AS ferry_old FOR EACH STATEMENT');
    expect(truncate).toBe(
      'CREATE OR REPLACE TRIGGER ferry_refuse_truncate BEFORE TRUNCATE ON "portal"."users" FOR EACH STATEMENT EXECUTE FUNCTION ferry.refuse_truncate()',
    );
  });
  it('sends no NOTIFY in poll mode', () => {
    const [create] = createTriggerStatements('portal.users', mappings.slice(0, 1), '');
    expect(create).not.toContain('pg_notify');
    expect(create).not.toContain('ferry.woke');
  });
  it('quotes the body with a tag no name in it contains', () => {
    const [create] = createTriggerStatements('portal.users', [{ name: 'a$ferry$b', key: 'id', target: 'x.y' }], '');
    expect(create).toContain('AS $ferry1$');
    expect(create.endsWith('$ferry1$')).toBe(true);
  });
  it('names one function per table, whatever the table is called', () => {
    expect(captureFunctionName('"My Schema"."a.b""c"')).toMatch(/^ferry\."capture_my_schema_a_b_c_[0-9a-f]{8}"$/);
    expect(captureFunctionName('"My Schema"."a.b""c"')).not.toBe(captureFunctionName('my_schema.a_b_c'));
    expect(dropTriggerStatements('portal.users').at(-1)).toBe(`DROP FUNCTION IF EXISTS ${fn}()`);
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
