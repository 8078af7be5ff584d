-- What a backfill reads that is not an id: the operator's --where, the keys
-- a `verify --repair` carries again or removes, and the keyset cursor (the
-- last source key read). Temporal's history is readable by anyone with
-- access to the namespace and keeps what it records, so a backfill workflow
-- is started with this row's id and its mapping's name only; its activities
-- read the rest from here, in a READ ONLY transaction apart from their writes.
CREATE TABLE ferry.backfill_inputs (
  id          bigserial   PRIMARY KEY,          -- the run id in the workflow's input
  workflow_id text        NOT NULL,             -- ferry-<instance>-backfill-<mapping>
  mapping     text        NOT NULL,
  where_sql   text,                             -- --where, checked again by the worker before each use
  repair_keys text[],                           -- source keys to carry; NULL: walk the whole table
  orphan_keys text[]      NOT NULL DEFAULT '{}',-- target keys whose source is gone (onDelete applies)
  -- The keyset walk: chunk `chunk` reads the keys after `cursor`; a chunk run
  -- again after it advanced (its activity retried) starts after `prev_cursor`.
  chunk       integer     NOT NULL DEFAULT 0,
  cursor      text,
  prev_cursor text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
