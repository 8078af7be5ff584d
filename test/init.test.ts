import ts from 'typescript';
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
    const text = renderConfig(p, { packageName: 'ferry', command: 'ferry init', date: '2026-11-25' });
    expect(text).toContain("full_name: row['Full Name'],");
    expect(text).toContain("  'it\\'s': string | null;");
    expect(text).toContain("import { defineConfig } from 'ferry';");
    expect(text).toContain('database: { url: process.env.DATABASE_URL! },');
    expect(text).toContain("onDelete: 'delete',");
  });

  // The schema: portal.users and portal.orgs; contact and account with External IDs.
  const hcPortal = [
    table('portal', 'orgs', ['id', 'name']),
    table('portal', 'users', ['id', 'org_id', 'email'], { foreignKeys: [{ column: 'org_id', refTable: 'portal.orgs', refColumn: 'id' }] }),
  ];
  const hcTarget = (contactColumns: string[]) => [
    table('salesforce', 'account', ['id', 'sfid', 'name', 'portal_org_id__c', 'isdeleted', '_hc_lastop'], {
      uniqueColumns: ['id', 'sfid', 'portal_org_id__c'],
    }),
    table('salesforce', 'contact', ['id', 'sfid', 'email', 'portal_user_id__c', 'isdeleted', ...contactColumns], {
      uniqueColumns: ['id', 'sfid', 'portal_user_id__c'],
    }),
  ];

  it('pairs tables through the External ID columns that name them, and links the parent through the relationship column', () => {
    const p = proposeConfig({ from: 'portal', to: 'salesforce', source: hcPortal, target: hcTarget(['account__portal_org_id__c']) });
    expect(p.unmatched).toEqual([]);
    const byName = new Map(p.mappings.map((m) => [m.name, m]));
    expect(byName.get('orgs_to_account')).toMatchObject({ target: { table: 'salesforce.account', key: 'portal_org_id__c' } });
    const contact = byName.get('users_to_contact')!;
    expect(contact).toMatchObject({
      target: { table: 'salesforce.contact', key: 'portal_user_id__c' },
      parents: [{ mapping: 'orgs_to_account', column: 'org_id', from: 'foreign key' }],
      notes: [],
    });
    expect(contact.columns).toContainEqual({ target: 'account__portal_org_id__c', source: 'org_id', relationship: 'orgs_to_account' });
    const text = renderConfig(p, { packageName: 'ferry', command: 'ferry init', date: '2026-12-04' });
    expect(text).toContain('account__portal_org_id__c: row.org_id == null ? null : String(row.org_id)');
    // --pair still wins over the External ID.
    const paired = proposeConfig({ from: 'portal', to: 'salesforce', source: hcPortal, target: hcTarget([]), pairs: { users: 'account' } });
    expect(paired.mappings.find((m) => m.source.table === 'portal.users')!.target.table).toBe('salesforce.account');
  });

  it('says in a comment when the target has no relationship External ID column', () => {
    const p = proposeConfig({ from: 'portal', to: 'salesforce', source: hcPortal, target: hcTarget([]) });
    const contact = p.mappings.find((m) => m.name === 'users_to_contact')!;
    expect(contact.notes.join('\n')).toMatch(
      /no relationship External ID column for the parent orgs_to_account \(e\.g\. account__r__portal_org_id__c or account__portal_org_id__c\)/,
    );
    const text = renderConfig(p, { packageName: 'ferry', command: 'ferry init', date: '2026-12-04' });
    expect(text).toMatch(/^ {6}\/\/ salesforce\.contact has no relationship External ID column/m);
  });

  it('keeps names with line terminators inside comments and strings', () => {
    const evil = 'x\nprocess.exit(7)\u2028y\u2029z\rw';
    const source = [table('portal', evil, ['id', evil])];
    const target = [table('crm', evil, ['id', evil], { uniqueColumns: ['id'] })];
    const p = proposeConfig({ from: 'portal', to: 'crm', source, target: [...target, table('crm', 'other', ['id'])] });
    p.warnings.push(`a warning about ${evil}`);
    p.unmatched.push(`portal.${evil}`);
    const text = renderConfig(p, { packageName: 'ferry', command: `ferry init --pair ${evil}`, date: '2026-12-04' });
    for (const terminator of ['\r', '\u2028', '\u2029']) expect(text).not.toContain(terminator);
    // Compiled without comments, the name is left only inside string literals, escaped.
    const js = ts.transpileModule(text, { compilerOptions: { removeComments: true, target: ts.ScriptTarget.ES2022 } }).outputText;
    expect(js).toContain('process.exit(7)');
    expect(js.split('process.exit(7)').length).toBe(js.split('\\u000aprocess.exit(7)').length);
  });
});
