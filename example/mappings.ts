import type { FerryConfigInput } from '../src/config.js';

/**
 * The example's mappings, shared by example/ferry.config.ts, the tests and the
 * benchmark: portal.users <-> salesforce.account (a hierarchy through
 * manager_id), portal.contacts -> salesforce.contact (a loop with the
 * account's primary contact), portal.orders <-> salesforce.order__c.
 */
export const exampleMappings: FerryConfigInput['mappings'] = [
  {
    name: 'users_to_accounts',
    source: { table: 'portal.users', key: 'id' },
    // Heroku Connect reports each account's fate in _hc_lastop / _hc_err: `ferry status` counts it.
    target: { table: 'salesforce.account', key: 'portal_user_id__c', downstream: 'heroku-connect' },
    parents: [
      // A hierarchy (Account.ParentId): the manager's account is written first. Required: rows
      // that point at each other (a manages b, b manages a) fail at once, naming the loop.
      { mapping: 'users_to_accounts', column: 'manager_id' },
      // The primary contact points back at this account (its user_id): a loop of mappings.
      // Optional breaks it: the account is written now, and again once the contact is there.
      { mapping: 'contacts_to_contacts', column: 'primary_contact_id', optional: true },
    ],
    transform: (row, ctx) => ({
      portal_user_id__c: String(row.id),
      name: row.full_name,
      email__c: row.email,
      isdeleted: false,
      // Reached through the parent's target key (with Heroku Connect one would use its sfid).
      // A manager whose account is flagged deleted is no parent any more.
      parentid: ctx.parents.manager_id?.isdeleted === false ? ctx.parents.manager_id.portal_user_id__c : null,
      // Empty on the first pass when the contact is not in Salesforce yet; filled on the second.
      primary_contact__c: ctx.parents.primary_contact_id?.portal_contact_id__c ?? null,
    }),
    // Salesforce keeps deleted records around, flagged.
    onDelete: { softDelete: 'isdeleted' },
  },
  {
    name: 'orders_to_orders',
    source: { table: 'portal.orders', key: 'id' },
    target: { table: 'salesforce.order__c', key: 'portal_order_id__c' },
    // An order waits until its user's account is in salesforce.account.
    parents: [{ mapping: 'users_to_accounts', column: 'user_id' }],
    transform: (row, ctx) => ({
      portal_order_id__c: String(row.id),
      account__r__portal_user_id__c: row.user_id === null ? null : String(row.user_id),
      account__c: (ctx.parents.user_id?.sfid as string | undefined) ?? null,
      amount__c: row.amount,
      status__c: row.status,
      isdeleted: false,
    }),
    onDelete: { softDelete: 'isdeleted' },
  },
  {
    // Edits made in Salesforce flow back to the portal user they belong to, and
    // so does the sfid Salesforce gave the account. An account created in
    // Salesforce (no portal id yet) gets a new portal user, whose generated id
    // is written back into portal_user_id__c: the pair is linked.
    name: 'accounts_to_users',
    source: { table: 'salesforce.account', key: 'id' },
    target: { table: 'portal.users', key: 'id' },
    transform: (row) =>
      row.isdeleted
        ? null
        : {
            id: row.portal_user_id__c === null ? null : Number(row.portal_user_id__c),
            full_name: row.name,
            email: row.email__c,
            // The Salesforce id, once Salesforce accepted the account (Heroku Connect fills it in).
            sfid: row.sfid,
          },
    link: { writeBack: 'portal_user_id__c' },
    // Both sides edited before either was carried: the change captured last wins.
    conflict: 'latest',
    onDelete: 'ignore',
  },
  {
    name: 'orders_from_salesforce',
    source: { table: 'salesforce.order__c', key: 'id' },
    target: { table: 'portal.orders', key: 'id' },
    transform: (row) =>
      row.portal_order_id__c === null ? null : { id: Number(row.portal_order_id__c), amount: row.amount__c, status: row.status__c },
    onDelete: 'ignore',
  },
  {
    name: 'contacts_to_contacts',
    source: { table: 'portal.contacts', key: 'id' },
    target: { table: 'salesforce.contact', key: 'portal_contact_id__c', downstream: 'heroku-connect' },
    // A contact needs its account (required); the account names it back as optional.
    parents: [{ mapping: 'users_to_accounts', column: 'user_id' }],
    transform: (row, ctx) => ({
      portal_contact_id__c: String(row.id),
      account__r__portal_user_id__c: ctx.parents.user_id?.portal_user_id__c ?? null,
      name: row.full_name,
      email: row.email,
      isdeleted: false,
    }),
    onDelete: { softDelete: 'isdeleted' },
  },
];

/**
 * Some of the example's mappings, by name, in the example's order; parent
 * references to mappings left out are dropped (a test that needs users alone).
 */
export function exampleSubset(...names: string[]): FerryConfigInput['mappings'] {
  return exampleMappings
    .filter((m) => names.includes(m.name))
    .map((m) => ({ ...m, parents: (m.parents ?? []).filter((p) => names.includes(p.mapping)) }));
}
