-- Statement-level capture, replacing 002's row trigger ferry.log_change().
--
-- A row trigger paid, for every row, two to_jsonb() calls, a loop and its own
-- INSERT into the log. These triggers fire once per statement, read the
-- statement's transition tables and write all of its log rows with one
-- INSERT ... SELECT per mapping, and send a NOTIFY only when nothing else waits.
--
-- Upgrade: dropping the old function drops its row triggers with it; `ferry
-- migrate` creates the statement triggers in the same transaction (which holds
-- each table's lock from the drop to the commit), so every write lands either
-- before the switch (row trigger) or after it (statement triggers), never in between.
DROP FUNCTION IF EXISTS ferry.log_change() CASCADE;

-- What the log holds (see README "What the log holds"): the key of every
-- change, and the row as it was before an UPDATE or DELETE. The sync reads the
-- current source row itself, so no new image is stored: the old image is what
-- only the log can tell (the "no mapped column changed" check, two-way
-- conflicts, and the row a DELETE took away).
--
-- Arguments: the NOTIFY channel ('' = poll mode, no NOTIFY), then one triple
-- per mapping that reads the table: (mapping name, source key column,
-- schema-qualified target table). Three triggers call it, one per event,
-- because a trigger with transition tables fires for one event only:
--   AFTER INSERT ... REFERENCING NEW TABLE AS ferry_new
--   AFTER UPDATE ... REFERENCING OLD TABLE AS ferry_old NEW TABLE AS ferry_new
--   AFTER DELETE ... REFERENCING OLD TABLE AS ferry_old
--
-- Semantics, the same as the row trigger's:
--   * an UPDATE that leaves a row as it was (byte for byte) is not logged;
--   * an UPDATE that changes the key logs a DELETE of the old key, then an
--     UPDATE of the new key, for each such row. Several rows changing keys in
--     one statement (SET id = id + 1) each log that pair, in statement order;
--     a key that one row leaves and another takes gets both logs, and its
--     newest pending log carries whatever row holds that key in the end;
--   * echo suppression: Ferry's own writes set ferry.origin (transaction-local)
--     to the tables their values came from; a mapping whose target is one of
--     them logs nothing;
--   * one log row per changed row and mapping, ids in statement order within
--     each mapping (a key change's DELETE before its UPDATE).
CREATE FUNCTION ferry.capture() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  origin  text[] := string_to_array(nullif(current_setting('ferry.origin', true), ''), ',');
  src     text   := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
  channel text   := TG_ARGV[0];
  logged  bigint := 0;
  n       bigint;
BEGIN
  FOR i IN 0 .. (TG_NARGS - 1) / 3 - 1 LOOP
    CONTINUE WHEN origin IS NOT NULL AND TG_ARGV[i * 3 + 3] = ANY (origin);
    IF TG_OP = 'INSERT' THEN
      EXECUTE format(
        'INSERT INTO ferry.database_trigger_log (mapping, table_name, op, row_key)
         SELECT $1, $2, ''INSERT'', n.%I::text FROM ferry_new n', TG_ARGV[i * 3 + 2])
      USING TG_ARGV[i * 3 + 1], src;
    ELSIF TG_OP = 'DELETE' THEN
      EXECUTE format(
        'INSERT INTO ferry.database_trigger_log (mapping, table_name, op, row_key, old_row)
         SELECT $1, $2, ''DELETE'', o.%I::text, to_jsonb(o) FROM ferry_old o', TG_ARGV[i * 3 + 2])
      USING TG_ARGV[i * 3 + 1], src;
    ELSE
      -- Old and new tables hold a statement's rows in the same order (Postgres
      -- appends each row's old and new version together), so position pairs
      -- them even when the key changed.
      EXECUTE format(
        'INSERT INTO ferry.database_trigger_log (mapping, table_name, op, row_key, old_row)
         SELECT $1, $2, c.op, c.row_key, c.old_row
           FROM (SELECT row_number() OVER () AS pos, o AS rec FROM ferry_old o) o
           JOIN (SELECT row_number() OVER () AS pos, n AS rec FROM ferry_new n) n USING (pos)
           CROSS JOIN LATERAL (SELECT to_jsonb(o.rec) AS img, (o.rec).%1$I::text AS old_key, (n.rec).%1$I::text AS new_key) k
           CROSS JOIN LATERAL (VALUES (1, ''DELETE'', k.old_key, k.img), (2, ''UPDATE'', k.new_key, k.img)) c (step, op, row_key, old_row)
          WHERE NOT (o.rec *= n.rec)
            AND (c.step = 2 OR k.old_key IS DISTINCT FROM k.new_key)
          ORDER BY pos, step', TG_ARGV[i * 3 + 2])
      USING TG_ARGV[i * 3 + 1], src;
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    logged := logged + n;
  END LOOP;

  -- Notify mode: a NOTIFY makes the commit take Postgres' cluster-wide notify
  -- lock (held through the commit's WAL flush), so notifying commits run one
  -- at a time. Only a transaction that finds the dispatcher idle sends one:
  -- when another transaction's log still waits to be dispatched, the
  -- dispatcher is awake and keeps looking every listener.pollInterval until
  -- it finds nothing (README "Capture"). Decided once per transaction and
  -- channel; the payload is empty (row data never travels here).
  IF logged > 0 AND channel <> '' AND current_setting('ferry.woke', true) IS DISTINCT FROM channel THEN
    PERFORM set_config('ferry.woke', channel, true);
    IF NOT EXISTS (SELECT 1 FROM ferry.database_trigger_log
                    WHERE status = 'pending' AND dispatched_at IS NULL AND txid <> txid_current()) THEN
      PERFORM pg_notify(channel, '');
    END IF;
  END IF;
  RETURN NULL;
END
$$;

-- A TRUNCATE fires no row or DELETE trigger, so it would empty a synced table
-- without a trace in the log. It is refused instead, saying what to do.
CREATE FUNCTION ferry.refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('ferry.allow_truncate', true) = 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'ferry: TRUNCATE of %.% is refused: Ferry syncs this table and a TRUNCATE leaves no trace it could carry',
    TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'feature_not_supported',
          HINT = 'Use DELETE FROM (every deleted row is carried to the target), or, to empty the table and leave its '
              || 'targets as they are, run SET LOCAL ferry.allow_truncate = on in the same transaction first.';
END
$$;
