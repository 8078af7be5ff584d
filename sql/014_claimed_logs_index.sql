-- The dispatcher's own bookkeeping reads only the logs it has claimed and
-- not carried yet: whether a parent mapping still has a batch running, how
-- many of a mapping's logs wait in batches (the dispatcher claims a backlog
-- only a few batches ahead of the workers), and the sweep that gives back
-- claims no live dispatcher stands behind. Without an index on them, each of
-- these read the whole log, a second per round at a million pending logs.
-- They are few at any time: the dispatcher keeps at most a few batches ahead.
CREATE INDEX database_trigger_log_claimed
  ON ferry.database_trigger_log (mapping, workflow_id)
  WHERE status = 'pending' AND dispatched_at IS NOT NULL;
