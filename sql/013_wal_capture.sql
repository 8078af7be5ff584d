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
