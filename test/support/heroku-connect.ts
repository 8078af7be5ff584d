import { execFileSync } from 'node:child_process';
// A Heroku Connect-shaped `sf` schema of 10 objects (with its bookkeeping
// tables and an account hierarchy through parentid), and the app schema `app`
// it mirrors, with foreign keys, for `ferry init` tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const hcTable = (name: string, extra: string) => `
CREATE TABLE sf.${name} (
  id serial PRIMARY KEY,
  sfid varchar(18) UNIQUE,
  ${extra}
  isdeleted boolean NOT NULL DEFAULT false,
  systemmodstamp timestamptz NOT NULL DEFAULT now(),
  _hc_lastop varchar(32),
  _hc_err text
);`;

export const HEROKU_CONNECT_SQL = `
CREATE SCHEMA app;
CREATE TABLE app.accounts (id serial PRIMARY KEY, name text, parent_id integer REFERENCES app.accounts (id), industry text);
CREATE TABLE app.contacts (id serial PRIMARY KEY, account_id integer REFERENCES app.accounts (id), first_name text, last_name text, email text);
CREATE TABLE app.opportunities (id serial PRIMARY KEY, account_id integer REFERENCES app.accounts (id), name text, amount numeric(12,2), stage_name text);
CREATE TABLE app.cases (id serial PRIMARY KEY, contact_id integer REFERENCES app.contacts (id), subject text, status text);
CREATE TABLE app.leads (id serial PRIMARY KEY, email text, company text);
CREATE TABLE app.campaigns (id serial PRIMARY KEY, name text, status text);
CREATE TABLE app.products (id serial PRIMARY KEY, name text, family text);
CREATE TABLE app.tasks (id serial PRIMARY KEY, subject text, status text);
CREATE TABLE app.events (id serial PRIMARY KEY, subject text);
CREATE TABLE app.users (id serial PRIMARY KEY, email text, username text);
CREATE TABLE app.audit_trail (id serial PRIMARY KEY, note text);

CREATE SCHEMA sf;
${hcTable('account', 'name varchar(255), parentid varchar(18), industry varchar(255), app_account_id__c varchar(255) UNIQUE,')}
${hcTable('contact', 'accountid varchar(18), firstname varchar(80), lastname varchar(80), email varchar(80), app_contact_id__c varchar(255) UNIQUE,')}
${hcTable('opportunity', 'accountid varchar(18), name varchar(120), amount double precision, stagename varchar(40), app_opportunity_id__c varchar(255) UNIQUE,')}
${hcTable('case', 'contactid varchar(18), subject varchar(255), status varchar(40), app_case_id__c varchar(255) UNIQUE,')}
${hcTable('lead', 'email varchar(80), company varchar(255), external_id__c varchar(255) UNIQUE,')}
${hcTable('campaign', 'name varchar(80), status varchar(40), app_campaign_id__c varchar(255) UNIQUE,')}
${hcTable('product2', 'name varchar(255), family varchar(40),')}
${hcTable('task', 'subject varchar(255), status varchar(40), app_task_id__c varchar(255) UNIQUE,')}
${hcTable('event', 'subject varchar(255), app_event_id__c varchar(255) UNIQUE,')}
${hcTable('user', 'email varchar(128), username varchar(80), app_user_id__c varchar(255) UNIQUE,')}
CREATE TABLE sf._trigger_log (id serial PRIMARY KEY, txid bigint, table_name varchar(128), record_id integer, sfid varchar(18), action varchar(7), state varchar(8), processed_at timestamptz);
CREATE TABLE sf._trigger_log_archive (LIKE sf._trigger_log);
`;

// The schemas of the issue that asked for External ID pairing: an app schema
// `portal` (users belong to orgs) and Heroku Connect's `salesforce`, where
// contact names its account by the account's External ID through the
// relationship column account__portal_org_id__c. Replaces the example schemas.
export const PORTAL_HEROKU_CONNECT_SQL = `
DROP SCHEMA portal, salesforce CASCADE;
CREATE SCHEMA portal;
CREATE TABLE portal.orgs (id serial PRIMARY KEY, name text NOT NULL, industry text);
CREATE TABLE portal.users (id serial PRIMARY KEY, org_id integer REFERENCES portal.orgs (id), email text, first_name text, last_name text);
CREATE SCHEMA salesforce;
CREATE TABLE salesforce.account (
  id serial PRIMARY KEY, sfid varchar(18) UNIQUE, name varchar(255), industry varchar(255),
  portal_org_id__c varchar(255) UNIQUE,
  isdeleted boolean NOT NULL DEFAULT false, systemmodstamp timestamptz NOT NULL DEFAULT now(), _hc_lastop varchar(32), _hc_err text
);
CREATE TABLE salesforce.contact (
  id serial PRIMARY KEY, sfid varchar(18) UNIQUE, accountid varchar(18), account__portal_org_id__c varchar(255),
  email varchar(80), firstname varchar(40), lastname varchar(80), portal_user_id__c varchar(255) UNIQUE,
  isdeleted boolean NOT NULL DEFAULT false, systemmodstamp timestamptz NOT NULL DEFAULT now(), _hc_lastop varchar(32), _hc_err text
);
`;

/**
 * Makes `import { defineConfig } from '<package>'` resolve for config files
 * written into `dir`, as it does in an app that installed Ferry: a package of
 * that name in dir/node_modules whose entry is this checkout's built config module.
 */
export function installFerryPackage(dir: string, name: string, root: string): void {
  // dist/ as the sources are now (a no-op when it is up to date): a checkout edited since `npm ci` would load the old config module.
  execFileSync(process.execPath, [path.join(root, 'bin', 'build.mjs')], { stdio: 'ignore' });
  const pkg = path.join(dir, 'node_modules', name);
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name, type: 'module', exports: './index.js' }));
  writeFileSync(
    path.join(pkg, 'index.js'),
    `export { defineConfig } from ${JSON.stringify(pathToFileURL(path.join(root, 'dist/src/config.js')).href)};\n`,
  );
}

/** A generated config with its commented two-way blocks switched on: `// ` removed from each block's lines. */
export function uncommentBlocks(text: string): string {
  let inBlock = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*\/\/ The other way, /.test(line)) {
        inBlock = true;
        return line;
      }
      if (!inBlock) return line;
      const m = /^(\s*)\/\/ (.*)$/.exec(line);
      if (!m) throw new Error(`a commented block has a line that is not commented: ${line}`);
      if (m[2] === '},') inBlock = false;
      return m[1]! + m[2]!;
    })
    .join('\n');
}
