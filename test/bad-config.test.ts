// Bad config, caught when it loads: each case names the offending key (the CLI
// exits 2 on it; test/bad-config.int.test.ts runs a few through the real CLI).
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';
import { mapping, valid } from './support/config-fixtures.js';

const withMapping = (over: Record<string, unknown>) => valid({ mappings: [mapping(over)] });

function errorOf(raw: unknown): string {
  try {
    parseConfig(raw, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('bad config names the key', () => {
  it.each([
    ['default export not an object', null, 'the default export must be an object'],
    ['database.url of the wrong type', valid({ database: { url: 5432 } }), 'database.url'],
    ['poolSize as a string', valid({ database: { url: 'postgres://x/y', poolSize: '10' } }), 'database.poolSize'],
    ['unknown top-level key', valid({ mapings: [] }), 'mapings'],
    ['unknown mapping key (typo)', withMapping({ trasform: () => null }), 'trasform'],
    ['mapping name with a space', withMapping({ name: 'users to accounts' }), 'mappings[0].name'],
    ['transform not a function', withMapping({ transform: 'copy' }), 'mappings[0].transform: must be a function'],
    ['table without a schema', withMapping({ source: { table: 'users', key: 'id' } }), 'mappings[0].source.table: must be a schema-qualified table'],
    ['table as a number', withMapping({ target: { table: 42, key: 'k' } }), 'mappings[0].target.table'],
    ['table with three parts', withMapping({ source: { table: 'db.portal.users', key: 'id' } }), 'mappings[0].source.table'],
    ['unterminated quote', withMapping({ source: { table: '"portal.users', key: 'id' } }), 'mappings[0].source.table'],
    ['table name over 63 bytes', withMapping({ target: { table: `s.${'ü'.repeat(32)}`, key: 'k' } }), '63-byte identifier limit'],
    ['table name with ","', withMapping({ target: { table: '"a,b".t', key: 'k' } }), 'contains ","'],
    [
      'source schema too long for its channel',
      withMapping({ source: { table: `${'s'.repeat(58)}.t`, key: 'id' } }),
      'too long for its NOTIFY channel',
    ],
    ['empty key column', withMapping({ source: { table: 'portal.users', key: '' } }), 'mappings[0].source.key: column name is empty'],
    ['key column with NUL', withMapping({ target: { table: 's.t', key: 'a\0b' } }), 'mappings[0].target.key: column name contains a NUL'],
    ['onDelete unknown', withMapping({ onDelete: 'drop' }), 'mappings[0].onDelete'],
    ['softDelete not a column', withMapping({ onDelete: { softDelete: 1 } }), 'mappings[0].onDelete'],
    ['conflict unknown', withMapping({ conflict: 'newest' }), 'mappings[0].conflict'],
    ['transformTimeout too long', withMapping({ transformTimeout: '1m' }), 'mappings[0].transformTimeout: must be more than 0 and at most 25s'],
    ['transformTimeout not a duration', withMapping({ transformTimeout: 'soon' }), 'mappings[0].transformTimeout: must be a duration'],
    ['transforms.isolation unknown', valid({ transforms: { isolation: 'process' } }), 'transforms.isolation'],
    ['transforms.threads 0', valid({ transforms: { threads: 0 } }), 'transforms.threads'],
    [
      'missing parent mapping',
      withMapping({ parents: [{ mapping: 'orgs', column: 'org_id' }] }),
      'mappings[0].parents[0].mapping: no mapping is named "orgs"',
    ],
    ['duplicate mapping names', valid({ mappings: [mapping(), mapping()] }), 'mappings[1].name: "users_to_accounts" is used twice'],
    ['maximumAttempts 0', valid({ missingParent: { maximumAttempts: 0 } }), 'missingParent.maximumAttempts'],
    ['batchSize negative', valid({ listener: { batchSize: -1 } }), 'listener.batchSize'],
    ['capture.mode unknown', valid({ capture: { mode: 'logical' } }), 'capture.mode'],
    ['capture.slotLagWarning not a number', valid({ capture: { mode: 'wal', slotLagWarning: '1GB' } }), 'capture.slotLagWarning'],
  ])('%s', (_, raw, expected) => {
    expect(errorOf(raw)).toContain(expected);
  });
});
