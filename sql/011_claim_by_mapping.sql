-- Claims walk each mapping's undispatched logs in key order.
--
-- The dispatcher asks three things every round: which mappings have logs
-- waiting to be dispatched, which of them have a backlog (more than
-- listener.batchThreshold queued), and the next logs of a mapping in id
-- order. With the undispatched index on (id) alone, the first two counted
-- every pending log and the third sorted them, so each round cost time in
-- proportion to the backlog. On (mapping, id) each question is a walk of a
-- few index entries: the distinct mappings by a skip scan, the next logs of
-- one mapping by a range scan in key order, the backlog test by a count
-- that stops at the threshold.
CREATE INDEX database_trigger_log_undispatched_by_mapping
  ON ferry.database_trigger_log (mapping, id)
  WHERE status = 'pending' AND dispatched_at IS NULL;
DROP INDEX ferry.database_trigger_log_undispatched;
ALTER INDEX ferry.database_trigger_log_undispatched_by_mapping RENAME TO database_trigger_log_undispatched;

-- The log is a queue: every carried log leaves a dead row version behind (its
-- status is in the partial indexes' predicates, so no update is HOT), and
-- dead entries in the hot partial indexes make every claim walk past them.
-- Postgres' default waits for 20% of the table to be dead before it vacuums,
-- which on a log of millions of rows is hundreds of thousands of dead
-- entries. These settings vacuum after about 10,000 dead rows plus 1% of the
-- table, and analyze as often, so the planner sees the pending share as it
-- is; the cost limit lets one vacuum pass finish quickly.
ALTER TABLE ferry.database_trigger_log SET (
  autovacuum_vacuum_threshold = 10000,
  autovacuum_vacuum_scale_factor = 0.01,
  autovacuum_vacuum_insert_threshold = 10000,
  autovacuum_vacuum_insert_scale_factor = 0.01,
  autovacuum_analyze_threshold = 10000,
  autovacuum_analyze_scale_factor = 0.01,
  autovacuum_vacuum_cost_limit = 2000
);
