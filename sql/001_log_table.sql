-- The durable change log. One row per captured change and mapping, written by
-- ferry.log_change() in the same transaction as the change itself, so a change
-- exists exactly when its log row does. NOTIFY is only a wake-up; this table
-- is the truth the dispatcher and the sweeper read.
CREATE TABLE ferry.database_trigger_log (
  id            bigserial   PRIMARY KEY,
  created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  txid          bigint      NOT NULL DEFAULT txid_current(),
  mapping       text        NOT NULL,            -- config mapping name
  table_name    text        NOT NULL,            -- schema-qualified source table
  op            text        NOT NULL CHECK (op IN ('INSERT', 'UPDATE', 'DELETE')),
  row_key       text        NOT NULL,            -- source key value, as text
  old_row       jsonb,
  new_row       jsonb,
  status        text        NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'synced', 'failed', 'skipped')),
  attempts      integer     NOT NULL DEFAULT 0,
  error         text,
  synced_at     timestamptz,
  workflow_id   text,                            -- set when dispatched: 'ferry-log-<id>'
  dispatched_at timestamptz,
  superseded_by bigint,                          -- for 'skipped': the log that carried a newer state
  waiting_mapping text,                          -- while waiting for a parent: its mapping ...
  waiting_key   text                             -- ... and its source key
);

-- The dispatcher claims undispatched pending logs in id order.
CREATE INDEX database_trigger_log_undispatched
  ON ferry.database_trigger_log (id)
  WHERE status = 'pending' AND dispatched_at IS NULL;

-- Pending logs of one source row: supersession checks, parent look-ups, status.
CREATE INDEX database_trigger_log_pending
  ON ferry.database_trigger_log (mapping, row_key, id)
  WHERE status = 'pending';

-- Children waiting for a parent, found by the parent's sync to wake them.
CREATE INDEX database_trigger_log_waiting
  ON ferry.database_trigger_log (waiting_mapping, waiting_key)
  WHERE waiting_key IS NOT NULL;
