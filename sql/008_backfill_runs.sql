-- What `ferry status` shows of backfills without asking Temporal: one row per
-- backfill workflow, written by the workflow (a local activity) after it
-- counts, after every chunk and when it ends. The workflow's query `progress`
-- stays the live truth; this is its last known copy.
CREATE TABLE ferry.backfill_runs (
  workflow_id text        PRIMARY KEY,            -- ferry-<instance>-backfill-<mapping>
  mapping     text        NOT NULL,
  state       text        NOT NULL CHECK (state IN ('counting', 'running', 'done', 'cancelled', 'failed')),
  rows_done   bigint      NOT NULL DEFAULT 0,
  rows_total  bigint      NOT NULL DEFAULT 0,     -- estimated (pg_class.reltuples for big tables)
  rate        integer     NOT NULL DEFAULT 0,     -- rows per second since the start
  cursor      text,                               -- the last source key read
  started_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);
