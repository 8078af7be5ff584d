import { describe, expect, it } from 'vitest';
import type { TableInfo } from '../src/init/introspect.js';
import { normalizeName, proposeConfig, singular } from '../src/init/propose.js';
import { renderConfig } from '../src/init/render.js';

const col = (name: string, type = 'text') => ({ name, type, notNull: false });
const table = (schema: string, name: string, columns: string[], more: Partial<TableInfo> = {}): TableInfo => ({
  schema,
  name,
  columns: columns.map((c) => col(c, c === 'id' ? 'integer' : 'text')),
  primaryKey: 'id',
  uniqueColumns: ['id'],
  foreignKeys: [],
  ...more,
});

// The example's schemas, as the catalog describes them.
const portal = [
  table('portal', 'users', ['id', 'email', 'full_name', 'created_at']),
  table('portal', 'orders', ['id', 'user_id', 'amount', 'status']),
];
const salesforce = [
  table('salesforce', 'account', ['id', 'sfid', 'name', 'email__c', 'portal_user_id__c', 'isdeleted', 'systemmodstamp'], {
    uniqueColumns: ['id', 'sfid', 'portal_user_id__c'],
  }),
  table('salesforce', 'order__c', ['id', 'sfid', 'account__c', 'amount__c', 'status__c', 'portal_order_id__c', 'isdeleted'], {
    uniqueColumns: ['id', 'sfid', 'portal_order_id__c'],
  }),
];

describe('ferry init: proposing mappings', () => {
  it('compares names case-, underscore- and __c-insensitively', () => {
    expect(normalizeName('Email__c')).toBe('email');
    expect(normalizeName('full_name')).toBe('fullname');
    expect(singular('users')).toBe('user');
    expect(singular('categories')).toBe('category');
    expect(singular('address')).toBe('address');
  });

  it('maps the example: keys from primary and unique keys, matching columns, a parent from the column name', () => {
    const p = proposeConfig({ from: 'portal', to: 'salesforce', source: portal, target: salesforce, pairs: { users: 'account' } });
    expect(p.herokuConnect).toBe(true);
    expect(p.unmatched).toEqual([]);
    const [users, orders] = p.mappings;
    expect(users).toMatchObject({
      name: 'users_to_account',
      source: { table: 'portal.users', key: 'id' },
      target: { table: 'salesforce.account', key: 'portal_user_id__c' },
      keyMissing: false,
      keyIsText: true,
      columns: [{ target: 'email__c', source: 'email' }],
      softDelete: 'isdeleted',
    });
    // order__c matches orders by name (the __c and the plural aside).
    expect(orders).toMatchObject({
      name: 'orders_to_order__c',
      target: { table: 'salesforce.order__c', key: 'portal_order_id__c' },
      columns: [
        { target: 'amount__c', source: 'amount' },
        { target: 'status__c', source: 'status' },
      ],
      parents: [{ mapping: 'users_to_account', column: 'user_id', from: 'column name' }],
    });
    // Heroku Connect's own columns are never written.
    for (const m of p.mappings) for (const c of m.columns) expect(['sfid', 'systemmodstamp', 'isdeleted', 'id']).not.toContain(c.target);
    expect(p.warnings.join('\n')).toMatch(/External ID/);
  });

  it('says what is missing instead of guessing silently', () => {
    const target = [table('salesforce', 'account', ['id', 'sfid', 'name'], { uniqueColumns: ['id', 'sfid'] })];
    const p = proposeConfig({ from: 'portal', to: 'salesforce', source: portal, target, pairs: { users: 'account', nope: 'x' } });
    expect(p.mappings[0]!.keyMissing).toBe(true);
    expect(p.mappings[0]!.target.key).toBe('portal_user_id__c');
    expect(p.unmatched).toEqual(['portal.orders']);
    expect(p.warnings.join('\n')).toMatch(/no table portal\.nope/);
    expect(p.warnings.join('\n')).toMatch(/CREATE UNIQUE INDEX ON salesforce\.account \(portal_user_id__c\)/);
  });

  it('renders a file that quotes what is not a plain name', () => {
    const source = [table('portal', 'users', ['id', 'Full Name'])];
    const target = [table('crm', 'users', ['id', 'full_name', "it's"], { uniqueColumns: ['id'] })];
    const p = proposeConfig({ from: 'portal', to: 'crm', source, target });
    expect(p.herokuConnect).toBe(false);
    expect(p.mappings[0]).toMatchObject({ target: { key: 'id' }, keyIsText: false, columns: [{ target: 'full_name', source: 'Full Name' }] });
    const text = renderConfig(p, { databaseUrl: "postgres://x/it's", command: 'ferry init', date: '2026-11-25' });
    expect(text).toContain('full_name: row["Full Name"],');
    expect(text).toContain("process.env.DATABASE_URL ?? 'postgres://x/it\\'s'");
    expect(text).toContain("onDelete: 'delete',");
  });
});
