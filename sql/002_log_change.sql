-- Trigger function behind every synced source table.
--
-- Arguments come in triples, one per mapping that reads the table:
--   (mapping name, source key column, schema-qualified target table)
-- e.g. EXECUTE FUNCTION ferry.log_change('users_to_accounts', 'id', 'salesforce.account')
--
-- Echo suppression: Ferry's own writes run with the transaction-local setting
-- ferry.origin = the table(s) the written values came from. A mapping whose
-- target is one of those tables would only copy the values back where they came
-- from, so such a change is not logged for it. Other mappings still see it.
CREATE OR REPLACE FUNCTION ferry.log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  origin   text[] := string_to_array(nullif(current_setting('ferry.origin', true), ''), ',');
  src      text   := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
  old_j    jsonb;
  new_j    jsonb;
  key_col  text;
  logged   boolean := false;
BEGIN
  IF TG_OP <> 'INSERT' THEN old_j := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN new_j := to_jsonb(NEW); END IF;
  -- An UPDATE that changes nothing has nothing to carry.
  IF TG_OP = 'UPDATE' AND old_j = new_j THEN RETURN NULL; END IF;

  FOR i IN 0 .. TG_NARGS / 3 - 1 LOOP
    CONTINUE WHEN origin IS NOT NULL AND TG_ARGV[i * 3 + 2] = ANY (origin);
    key_col := TG_ARGV[i * 3 + 1];
    -- A key change is the old key's row going away and the new key's arriving.
    IF TG_OP = 'UPDATE' AND (old_j ->> key_col) IS DISTINCT FROM (new_j ->> key_col) THEN
      INSERT INTO ferry.database_trigger_log (mapping, table_name, op, row_key, old_row)
      VALUES (TG_ARGV[i * 3], src, 'DELETE', old_j ->> key_col, old_j);
    END IF;
    INSERT INTO ferry.database_trigger_log (mapping, table_name, op, row_key, old_row, new_row)
    VALUES (TG_ARGV[i * 3], src, TG_OP, coalesce(new_j, old_j) ->> key_col, old_j, new_j);
    logged := true;
  END LOOP;

  -- Empty payload: Postgres folds identical notifications of one transaction
  -- into one, so a 10,000-row statement wakes the listener once. Row data never
  -- travels here (payloads are capped at 8000 bytes); the listener reads the log.
  IF logged THEN
    PERFORM pg_notify('ferry_' || TG_TABLE_SCHEMA, '');
  END IF;
  RETURN NULL;
END
$$;
