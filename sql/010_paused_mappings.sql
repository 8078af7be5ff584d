-- Paused mappings (`ferry pause` / `ferry resume`). A paused mapping's
-- triggers still write every change to the log, so nothing is lost; the
-- dispatcher claims none of its logs, singly or in batches, until the row
-- here is deleted. Resuming is deleting it: the pending logs are then claimed
-- in id order like any backlog.
CREATE TABLE IF NOT EXISTS ferry.paused_mappings (
  mapping   text        PRIMARY KEY,
  paused_at timestamptz NOT NULL DEFAULT now(),
  paused_by text        NOT NULL DEFAULT current_user
);
