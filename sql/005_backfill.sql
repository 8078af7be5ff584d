-- Backfill: log rows that `ferry backfill` (and `verify --repair`) write for
-- rows that exist now, rather than rows a trigger captured. They are carried
-- under the same rules as any change, with two differences that make live
-- changes win: a backfill log steps aside for any pending change of its row,
-- and it is never a rival in a two-way conflict (it carries no edit of its own).
ALTER TABLE ferry.database_trigger_log
  ADD COLUMN kind text NOT NULL DEFAULT 'change' CHECK (kind IN ('change', 'backfill'));
