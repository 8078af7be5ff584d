import type { FerryConfigInput } from '../src/config.js';

/**
 * The example's mappings, shared by example/ferry.config.ts, the tests and the
 * benchmark: portal.users <-> salesforce.account, portal.orders <-> salesforce.order__c.
 */
export const exampleMappings: FerryConfigInput['mappings'] = [
  {
    name: 'users_to_accounts',
    source: { table: 'portal.users', key: 'id' },
    target: { table: 'salesforce.account', key: 'portal_user_id__c' },
    transform: (row) => ({ portal_user_id__c: String(row.id), name: row.full_name, email__c: row.email, isdeleted: false }),
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
    // Edits made in Salesforce flow back to the portal user they belong to. An
    // account created in Salesforce (no portal id yet) gets a new portal user,
    // whose generated id is written back into portal_user_id__c: the pair is linked.
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
];
