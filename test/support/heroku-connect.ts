// A Heroku Connect-shaped `sf` schema of 10 objects (with its bookkeeping
// tables and an account hierarchy through parentid), and the app schema `app`
// it mirrors, with foreign keys, for `ferry init` tests.
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
