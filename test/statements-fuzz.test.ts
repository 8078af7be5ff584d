// Every statement Ferry builds quotes every name and binds every value:
// generated hostile names and values never reach the SQL text unquoted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exactAsNumber, parseExactJson, parseInt8 } from '../src/db/exact-json.js';
import {
  deleteStatement,
  insertReturningKeyStatement,
  quoteIdent,
  selectRowStatement,
  softDeleteStatement,
  upsertStatement,
  writeBackStatement,
  type Statement,
} from '../src/statements.js';
import { formatTable, identifierProblem, parseTable } from '../src/table-name.js';

const HOSTILE = ['select', 'My Table', 'a"b', '"', 'a;b', 'drop table x; --', 'Ünïcødé 表', 'a.b', ' lead', "it's", 'x\ny', '$1', 'user'];
const identifier = fc
  .oneof(fc.constantFrom(...HOSTILE), fc.string({ minLength: 1, maxLength: 12 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }))
  .filter((s) => identifierProblem(s) === undefined);
const table = fc.record({ schema: identifier, name: identifier });
// Values carry a unique marker, so "the value is not in the text" cannot pass by accident.
const value = fc.tuple(fc.constantFrom("'); DROP TABLE t; --", '$1', '"x"', ''), fc.uuid()).map(([s, id]) => `${s}v-${id}`);

// What may remain of a statement once its quoted names are taken out: Ferry's own words only.
const SKELETON = new Set(
  (
    'INSERT INTO AS t r SELECT FROM jsonb_populate_record NULL jsonb ON CONFLICT DO UPDATE SET EXCLUDED WHERE ROW IS ' +
    'DISTINCT NOTHING DELETE true AND RETURNING key DEFAULT VALUES to_jsonb row ferry_t'
  ).split(' '),
);
function assertOnlyQuotedNames(statement: Statement | string): void {
  const text = typeof statement === 'string' ? statement : statement.text;
  const rest = text.replace(/"(?:[^"]|"")*"/g, ' ');
  expect(rest).toMatch(/^[A-Za-z_ ,().=:$0-9]*$/);
  for (const word of rest.match(/[A-Za-z_]+/g) ?? []) expect(SKELETON.has(word), `unquoted word ${word} in ${text}`).toBe(true);
}

describe('statement builders under generated names and values', () => {
  it('the canonical table text reads back as the same schema and name', () => {
    fc.assert(
      fc.property(table, (t) => {
        expect(parseTable(formatTable(t))).toEqual(t);
      }),
    );
  });

  it('upsert: names quoted, values only in the bound JSON', () => {
    fc.assert(
      fc.property(
        table,
        fc.uniqueArray(identifier, { minLength: 1, maxLength: 5 }),
        fc.array(value, { minLength: 5, maxLength: 5 }),
        (t, columns, values) => {
          const row = Object.fromEntries(columns.map((c, i) => [c, values[i]]));
          const s = upsertStatement(formatTable(t), columns[0]!, row);
          assertOnlyQuotedNames(s);
          for (const c of columns) expect(s.text).toContain(quoteIdent(c));
          for (const v of values.slice(0, columns.length)) expect(s.text).not.toContain(v);
          expect(s.values).toHaveLength(1);
          expect(JSON.parse(s.values[0] as string)).toEqual(row);
        },
      ),
    );
  });

  it('delete, soft delete, select, link and write-back: names quoted, the key only as $1', () => {
    fc.assert(
      fc.property(table, identifier, identifier, value, value, (t, key, column, keyValue, other) => {
        const name = formatTable(t);
        const statements = [
          deleteStatement(name, key, keyValue),
          softDeleteStatement(name, key, keyValue, column),
          selectRowStatement(name, key, keyValue),
          writeBackStatement(name, key, keyValue, column, other),
          insertReturningKeyStatement(name, key, { [key]: null, [column]: other }),
        ];
        for (const s of statements) {
          assertOnlyQuotedNames(s);
          expect(s.text).not.toContain(keyValue);
          expect(s.text).not.toContain(other);
        }
        expect(statements[0]!.values).toEqual([keyValue]);
      }),
    );
  });
});

describe('table names', () => {
  it.each([
    ['portal.users', { schema: 'portal', name: 'users' }, 'portal.users'],
    ['Sales.Account', { schema: 'Sales', name: 'Account' }, '"Sales"."Account"'],
    ['"My Schema"."a.b""c"', { schema: 'My Schema', name: 'a.b"c' }, '"My Schema"."a.b""c"'],
    ['portal."select"', { schema: 'portal', name: 'select' }, 'portal.select'],
    ['ünï.tbl', { schema: 'ünï', name: 'tbl' }, '"ünï".tbl'],
  ])('%s', (text, parsed, canonical) => {
    expect(parseTable(text)).toEqual(parsed);
    expect(formatTable(parsed)).toBe(canonical);
  });
  it.each(['users', 'a.b.c', '"a.b', 'a."b', '.b', 'a.', ' a.b', 'a"x".b', ''])('refuses %j', (text) => {
    expect(parseTable(text)).toBeUndefined();
  });
});

describe('exact JSON', () => {
  it('keeps numbers a double cannot hold as their digits, and the rest as numbers', () => {
    const text =
      '{"big": 9007199254740993, "n30": 123456789012345678901234567890, "dec": 1.5, "small": 42, ' +
      '"f": 0.12345678901234567, "s": "9007199254740993 in a string", "neg": -9007199254740993, "arr": [1, 99999999999999999999]}';
    expect(parseExactJson(text)).toEqual({
      big: '9007199254740993',
      n30: '123456789012345678901234567890',
      dec: 1.5,
      small: 42,
      f: '0.12345678901234567',
      s: '9007199254740993 in a string',
      neg: '-9007199254740993',
      arr: [1, '99999999999999999999'],
    });
  });
  it('round-trips every number it keeps as a number', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        const token = JSON.stringify(d);
        if (exactAsNumber(token)) expect(Number(token) === d).toBe(true);
      }),
    );
  });
  it('int8: a number while exact', () => {
    expect(parseInt8('42')).toBe(42);
    expect(parseInt8('9007199254740993')).toBe('9007199254740993');
  });
});
