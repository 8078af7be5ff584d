// A minimal valid config and mapping for the config's unit tests; `over` replaces keys.
export const mapping = (over: Record<string, unknown> = {}) => ({
  name: 'users_to_accounts',
  source: { table: 'portal.users', key: 'id' },
  target: { table: 'salesforce.account', key: 'portal_user_id__c' },
  transform: (row: Record<string, unknown>) => ({ portal_user_id__c: String(row.id) }),
  ...over,
});

export const valid = (over: Record<string, unknown> = {}) => ({ database: { url: 'postgres://x/y' }, mappings: [mapping()], ...over });
