-- Optional parents, carried in two passes. A child whose optional parent was
-- not in its target yet is written without it, and remembered here; when that
-- parent's sync completes, each child remembered for it gets a new log row
-- (op UPDATE, reason set), so the reference is filled in a second pass.
CREATE TABLE ferry.optional_waits (
  parent_mapping text        NOT NULL,   -- the parent's mapping ...
  parent_key     text        NOT NULL,   -- ... and its source key
  mapping        text        NOT NULL,   -- the child's mapping ...
  row_key        text        NOT NULL,   -- ... and its source key
  since          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (parent_mapping, parent_key, mapping, row_key)
);

-- A child's own waits, replaced each time it is carried.
CREATE INDEX optional_waits_child ON ferry.optional_waits (mapping, row_key);

-- Why Ferry logged a change itself, e.g. 'second pass: optional parent contacts key 5 synced'.
-- NULL for changes the trigger captured.
ALTER TABLE ferry.database_trigger_log ADD COLUMN reason text;
