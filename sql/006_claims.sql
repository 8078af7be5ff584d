-- Claims that never outlive their process. A dispatcher stamps the logs it
-- hands to workflows with its owner id, and holds the session advisory lock
-- (class 1178948185, owner id) on a connection of its own for as long as it
-- lives. A pending log whose owner no longer holds that lock (the process was
-- killed: Postgres dropped the lock with the connection) is anyone's to
-- dispatch again at once; a second start of its workflow is a no-op.
ALTER TABLE ferry.database_trigger_log ADD COLUMN claimed_by bigint;
