-- WAL capture (`capture.mode: 'wal'`, docs/capture.md): the listener reads
-- Ferry's replication slot and writes the same log rows a trigger would,
-- after the app's commit and outside its transaction.

-- Where a log row came from in the WAL: the commit LSN of the source
-- transaction and the row's place among that transaction's log rows. NULL for
-- rows a trigger, a backfill or a second pass wrote. A listener that crashes
-- between its commit and telling Postgres reads the same transaction again;
-- the unique index makes that second write a no-op.
ALTER TABLE ferry.database_trigger_log
  ADD COLUMN lsn pg_lsn,
  ADD COLUMN seq integer;

-- Partial: trigger-mode rows (lsn NULL) add no entry to it.
CREATE UNIQUE INDEX database_trigger_log_lsn_seq
  ON ferry.database_trigger_log (lsn, seq)
  WHERE lsn IS NOT NULL;

-- How far the listener has written the slot's changes into the log: updated
-- in the same transaction as the log rows it covers, and only then confirmed
-- to Postgres, so the slot never lets go of a change that is not in the log.
-- `migrate` sets it when capture switches to WAL (changes committed before
-- the switch were logged by the triggers) and records `stop_lsn` when it
-- switches back (changes committed after it are the triggers' again).
CREATE TABLE ferry.wal_position (
  slot       text        PRIMARY KEY,   -- the replication slot's name
  lsn        pg_lsn      NOT NULL,      -- every transaction ending at or before it is in the log
  stop_lsn   pg_lsn,                    -- switching back to triggers: capture ends here
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Ferry's own writes in WAL mode. The slot shows no role, and any role may
-- call pg_logical_emit_message, so a message saying "Ferry's own write" proves
-- nothing by itself: Ferry's message is sealed with this key, over the
-- transaction's id and the tables it names. No role but Ferry's owner reads
-- the key table; the two functions below hand the seal and the key only to a
-- session whose role may UPDATE the log, the rule trigger mode applies to
-- ferry.origin (src/statements.ts).
CREATE TABLE ferry.origin_key (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  key      bytea   NOT NULL
);
-- 244 random bits (gen_random_uuid is in core from Postgres 13; pgcrypto is not needed).
INSERT INTO ferry.origin_key (key)
  VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

-- Called in each of Ferry's write transactions (activities/upsert.ts
-- markOwnWrite). In trigger mode (no slot in use) it does nothing: the
-- triggers read ferry.origin.
CREATE FUNCTION ferry.seal_own_write(origin text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM ferry.wal_position WHERE stop_lsn IS NULL) THEN RETURN; END IF;
  IF NOT has_table_privilege(session_user, 'ferry.database_trigger_log', 'UPDATE') THEN RETURN; END IF;
  -- The slot's BEGIN carries the 32-bit transaction id: the low half of txid_current().
  PERFORM pg_logical_emit_message(true, 'ferry.origin',
            origin || ';' || encode(sha256(k.key || convert_to((txid_current() % 4294967296)::text || ';' || origin, 'UTF8')), 'hex'))
     FROM ferry.origin_key k;
END $$;

-- The key, for the listener that checks the seals; NULL for any other role.
CREATE FUNCTION ferry.origin_key() RETURNS bytea
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT key FROM ferry.origin_key WHERE has_table_privilege(session_user, 'ferry.database_trigger_log', 'UPDATE')
$$;
