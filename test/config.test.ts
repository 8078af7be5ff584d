import { describe, expect, it } from 'vitest';
import { parseConfig, requiredParentLoops } from '../src/config.js';
import { configErrorOf, mapping, valid } from './support/config-fixtures.js';
import { findCycle } from '../src/graph.js';

const errorOf = configErrorOf;

describe('parseConfig', () => {
  it('fills in the documented defaults', () => {
    const config = parseConfig(valid(), {});
    expect(config.temporal).toEqual({ address: 'localhost:7233', namespace: 'default', taskQueue: 'ferry' });
    expect(config.missingParent).toEqual({ initialInterval: 1000, backoffCoefficient: 2, maximumInterval: 60_000, maximumAttempts: 10 });
    expect(config.mappings[0]!.parents).toEqual([]);
    expect(config.mappings[0]!.onDelete).toBe('delete');
  });

  it('parses durations', () => {
    const config = parseConfig(valid({ missingParent: { initialInterval: '250ms', maximumInterval: '2m' } }), {});
    expect(config.missingParent.initialInterval).toBe(250);
    expect(config.missingParent.maximumInterval).toBe(120_000);
  });

  it('lets the environment override the file', () => {
    const config = parseConfig(valid(), {
      DATABASE_URL: 'postgres://env/db',
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'prod',
      FERRY_TASK_QUEUE: 'q',
    });
    expect(config.database.url).toBe('postgres://env/db');
    expect(config.temporal).toMatchObject({ address: 'temporal:7233', namespace: 'prod', taskQueue: 'q' });
  });

  it.each([
    [{ mappings: [mapping()] }, 'database'],
    [valid({ database: {} }), 'database.url: is required'],
    [valid({ mappings: [mapping({ source: { table: 'users', key: 'id' } })] }), 'mappings[0].source.table: must be a schema-qualified table'],
    [valid({ mappings: [mapping({ transform: 'nope' })] }), 'mappings[0].transform: must be a function'],
    [valid({ mappings: [mapping({ onDelete: 'drop' })] }), 'mappings[0].onDelete'],
    [valid({ missingParent: { initialInterval: 'soon' } }), 'missingParent.initialInterval: must be a duration'],
    [valid({ mappings: [] }), 'mappings: needs at least one mapping'],
    [valid({ mappings: [mapping({ extra: 1 })] }), 'mappings[0]'],
    [valid({ temporal: { adress: 'typo' } }), 'temporal'],
    [valid({ mappings: [mapping(), mapping()] }), 'mappings[1].name: "users_to_accounts" is used twice'],
    [valid({ mappings: [mapping({ parents: [{ mapping: 'nope', column: 'x' }] })] }), 'mappings[0].parents[0].mapping: no mapping is named "nope"'],
  ])('names the bad key (%#)', (raw, expected) => {
    expect(errorOf(raw)).toContain(expected);
  });

  it('accepts a mapping that is its own parent, and loops of mappings; parents are required unless optional', () => {
    const config = parseConfig(
      valid({
        mappings: [
          mapping({
            name: 'a',
            parents: [
              { mapping: 'a', column: 'parent_id' },
              { mapping: 'b', column: 'b_id', optional: true },
            ],
          }),
          mapping({ name: 'b', parents: [{ mapping: 'a', column: 'a_id' }] }),
        ],
      }),
      {},
    );
    expect(config.mappings[0]!.parents.map((p) => p.optional)).toEqual([false, true]);
    expect(requiredParentLoops(config.mappings)).toEqual([]);
  });

  it('warns of a loop of required parents, naming the references to make optional', () => {
    const config = parseConfig(
      valid({
        mappings: [
          mapping({
            name: 'a',
            parents: [
              { mapping: 'a', column: 'parent_id' },
              { mapping: 'c', column: 'c_id' },
            ],
          }),
          mapping({ name: 'b', parents: [{ mapping: 'a', column: 'a_id' }] }),
          mapping({ name: 'c', parents: [{ mapping: 'b', column: 'b_id' }] }),
        ],
      }),
      {},
    );
    expect(requiredParentLoops(config.mappings)).toEqual([
      'mappings a -> c -> b -> a form a loop of required parents: rows that point at each other through ' +
        'a.c_id and c.b_id and b.a_id cannot sync; mark one of these references optional: true',
    ]);
  });
});

describe('instance', () => {
  it('defaults to the database name, lower-cased, other characters as "-"', () => {
    expect(parseConfig(valid({ database: { url: 'postgres://u@h:5432/Shop.EU%20db' } }), {}).instance).toBe('shop-eu-db');
    expect(parseConfig(valid({ database: { url: 'postgres://u@h/ferry_t_1' } }), {}).instance).toBe('ferry_t_1');
  });

  it('takes an explicit value, and FERRY_INSTANCE over it', () => {
    expect(parseConfig(valid({ instance: 'staging' }), {}).instance).toBe('staging');
    expect(parseConfig(valid({ instance: 'staging' }), { FERRY_INSTANCE: 'prod-2' }).instance).toBe('prod-2');
  });

  it('refuses a value outside [a-z0-9_-], naming instance', () => {
    expect(errorOf(valid({ instance: 'Prod EU' }))).toContain('config: instance: must be lower-case letters, digits, "_" or "-"');
    expect(errorOf(valid(), { FERRY_INSTANCE: 'a/b' })).toContain('config: instance:');
  });
});

describe('two-way pairs', () => {
  const back = (over: Record<string, unknown> = {}) =>
    mapping({
      name: 'accounts_to_users',
      source: { table: 'salesforce.account', key: 'id' },
      target: { table: 'portal.users', key: 'id' },
      transform: () => null,
      ...over,
    });

  it('mirrors a conflict policy set on one side', () => {
    const config = parseConfig(valid({ mappings: [mapping({ conflict: 'source-wins' }), back()] }), {});
    expect(config.mappings.map((m) => m.conflict)).toEqual(['source-wins', 'target-wins']);
    expect(parseConfig(valid({ mappings: [mapping(), back()] }), {}).mappings.map((m) => m.conflict)).toEqual(['latest', 'latest']);
  });

  it('refuses policies that contradict each other', () => {
    expect(errorOf(valid({ mappings: [mapping({ conflict: 'source-wins' }), back({ conflict: 'source-wins' })] }))).toContain(
      `mappings[0].conflict: "source-wins" contradicts accounts_to_users's "source-wins" (expected "target-wins")`,
    );
  });

  it('refuses a pair that shares no key', () => {
    expect(errorOf(valid({ mappings: [mapping(), back({ target: { table: 'portal.users', key: 'email' } })] }))).toContain(
      'users_to_accounts and accounts_to_users sync in opposite directions',
    );
  });
});

describe('findCycle', () => {
  it('finds none in a chain', () => {
    expect(
      findCycle(
        new Map([
          ['c', ['b']],
          ['b', ['a']],
          ['a', []],
        ]),
      ),
    ).toBeUndefined();
  });
  it('finds a self-reference', () => {
    expect(findCycle(new Map([['a', ['a']]]))).toEqual(['a', 'a']);
  });
});

describe('target.downstream', () => {
  const target = (downstream: unknown) => ({ target: { table: 'salesforce.account', key: 'portal_user_id__c', downstream } });

  it("takes the 'heroku-connect' preset and the generic form, pending defaulting to PENDING", () => {
    const config = parseConfig(
      valid({
        mappings: [
          mapping(target('heroku-connect')),
          mapping({ name: 'other', ...target({ status: 'sync_state', failed: 'ERROR', error: 'sync_error' }) }),
        ],
      }),
      {},
    );
    expect(config.mappings.map((m) => m.target.downstream)).toEqual([
      { status: '_hc_lastop', failed: 'FAILED', error: '_hc_err', pending: ['PENDING'] },
      { status: 'sync_state', failed: 'ERROR', error: 'sync_error', pending: ['PENDING'] },
    ]);
  });

  it('refuses an unknown preset or a form without its failed value, naming the key', () => {
    expect(errorOf(valid({ mappings: [mapping(target('mulesoft'))] }))).toContain('mappings[0].target.downstream');
    expect(errorOf(valid({ mappings: [mapping(target({ status: '_hc_lastop' }))] }))).toContain('mappings[0].target.downstream');
  });
});
