-- The example's two schemas: the app's own (portal) and the one a connector
-- such as Heroku Connect keeps in step with Salesforce (salesforce).
-- Idempotent: `ferry dev` runs it on every start.
CREATE SCHEMA IF NOT EXISTS portal;
CREATE SCHEMA IF NOT EXISTS salesforce;

CREATE TABLE IF NOT EXISTS portal.users (
  id                 serial PRIMARY KEY,
  email              text,
  full_name          text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  manager_id         integer,       -- another user: a hierarchy in one table
  primary_contact_id integer,       -- a contact of this user's, who points back at the user
  sfid               varchar(18)    -- the account's Salesforce id, written back once Salesforce accepted it
);

CREATE TABLE IF NOT EXISTS portal.contacts (
  id        serial PRIMARY KEY,
  user_id   integer,                -- the user (account) the contact belongs to
  full_name text,
  email     text
);

CREATE TABLE IF NOT EXISTS portal.orders (
  id         serial PRIMARY KEY,
  user_id    integer,               -- the portal user; no FK, as in many legacy apps
  amount     numeric(12, 2),
  status     text
);

-- Heroku Connect's shape: a local serial id, the Salesforce id (sfid, NULL
-- until Salesforce accepts the row), External ID columns that point back at the
-- portal (NULL on records made in Salesforce), and the connector's own
-- bookkeeping: _hc_lastop (PENDING, SYNCED, FAILED) and _hc_err (why Salesforce
-- refused the row, as JSON).
CREATE TABLE IF NOT EXISTS salesforce.account (
  id                serial PRIMARY KEY,
  sfid              varchar(18) UNIQUE,
  name              text,
  email__c          text,
  portal_user_id__c text UNIQUE,
  isdeleted         boolean NOT NULL DEFAULT false,
  systemmodstamp    timestamptz NOT NULL DEFAULT now(),
  parentid          text,          -- the parent account (here: by its portal_user_id__c)
  primary_contact__c text,         -- the primary contact (here: by its portal_contact_id__c)
  createddate       timestamptz NOT NULL DEFAULT now(),
  _hc_lastop        varchar(32),
  _hc_err           text
);

CREATE TABLE IF NOT EXISTS salesforce.contact (
  id                            serial PRIMARY KEY,
  sfid                          varchar(18) UNIQUE,
  account__r__portal_user_id__c text,          -- the contact's account, by its external id
  name                          text,
  email                         text,
  portal_contact_id__c          text UNIQUE,
  isdeleted                     boolean NOT NULL DEFAULT false,
  systemmodstamp                timestamptz NOT NULL DEFAULT now(),
  createddate                   timestamptz NOT NULL DEFAULT now(),
  _hc_lastop                    varchar(32),
  _hc_err                       text
);

CREATE TABLE IF NOT EXISTS salesforce.order__c (
  id                           serial PRIMARY KEY,
  sfid                         varchar(18) UNIQUE,
  account__c                   varchar(18),   -- the account's sfid, once the connector knows it
  account__r__portal_user_id__c text,         -- the account, by its external id
  amount__c                    numeric(12, 2),
  status__c                    text,
  portal_order_id__c           text UNIQUE,
  isdeleted                    boolean NOT NULL DEFAULT false
);

-- Databases made by an earlier version of this file.
ALTER TABLE portal.users ADD COLUMN IF NOT EXISTS manager_id integer;
ALTER TABLE portal.users ADD COLUMN IF NOT EXISTS primary_contact_id integer;
ALTER TABLE salesforce.account ADD COLUMN IF NOT EXISTS parentid text;
ALTER TABLE salesforce.account ADD COLUMN IF NOT EXISTS primary_contact__c text;
ALTER TABLE portal.users ADD COLUMN IF NOT EXISTS sfid varchar(18);
ALTER TABLE salesforce.account ADD COLUMN IF NOT EXISTS createddate timestamptz NOT NULL DEFAULT now();
ALTER TABLE salesforce.account ADD COLUMN IF NOT EXISTS _hc_lastop varchar(32);
ALTER TABLE salesforce.account ADD COLUMN IF NOT EXISTS _hc_err text;
ALTER TABLE salesforce.contact ADD COLUMN IF NOT EXISTS systemmodstamp timestamptz NOT NULL DEFAULT now();
ALTER TABLE salesforce.contact ADD COLUMN IF NOT EXISTS createddate timestamptz NOT NULL DEFAULT now();
ALTER TABLE salesforce.contact ADD COLUMN IF NOT EXISTS _hc_lastop varchar(32);
ALTER TABLE salesforce.contact ADD COLUMN IF NOT EXISTS _hc_err text;
