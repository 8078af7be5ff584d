-- Run before every migration pass; idempotent. Holds the record of which
-- numbered files have been applied.
CREATE SCHEMA IF NOT EXISTS ferry;
CREATE TABLE IF NOT EXISTS ferry.migrations (
  id         integer     PRIMARY KEY,
  name       text        NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
