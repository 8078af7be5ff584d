import { expect } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

// A minimal valid config and mapping for the config's unit tests; `over` replaces keys.
export const mapping = (over: Record<string, unknown> = {}) => ({
  name: 'users_to_accounts',
  source: { table: 'portal.users', key: 'id' },
  target: { table: 'salesforce.account', key: 'portal_user_id__c' },
  transform: (row: Record<string, unknown>) => ({ portal_user_id__c: String(row.id) }),
  ...over,
});

export const valid = (over: Record<string, unknown> = {}) => ({ database: { url: 'postgres://x/y' }, mappings: [mapping()], ...over });

/** The message of the ConfigError a raw config raises (parsed against `env`, not the process's). */
export function configErrorOf(raw: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(raw, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}
