-- Capture functions of their own per table, replacing 003's generic ferry.capture().
DROP FUNCTION IF EXISTS ferry.capture() CASCADE;

-- Dropping ferry.capture() drops its statement triggers with it
-- (ferry_refuse_truncate stays); `ferry migrate` creates the new functions and
-- triggers in the same transaction, which holds each table's lock from the
-- drop to the commit, so every write lands either before the switch (old
-- triggers) or after it (new ones), never in between.
--
-- Why: ferry.capture() built its INSERT ... SELECT with format() and ran it
-- with EXECUTE, so Postgres parsed and planned it again on every statement
-- the app ran: about half of what capture cost a single-row INSERT. `ferry
-- migrate` now writes one function per source table,
-- ferry.capture_<table>_<hash>(), with the table's mappings and NOTIFY channel
-- spelled out in static SQL, which PL/pgSQL plans once per session
-- (src/statements.ts, createTriggerStatements). The rules and what the log
-- holds are those of 003 (README "Capture").
