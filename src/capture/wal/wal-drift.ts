// WAL mode's part of drift (src/capture/drift.ts): each mapped table in the
// publication with its whole old image, no capture trigger besides (a change
// would be logged twice), and the slot and its position in place.
import type { FerryConfig } from '../../config.js';
import type { PgClient, Pool } from '../../db/index.js';
import { publicationName, slotName } from './names.js';

const FIX = 'run `ferry migrate`';

export async function walDrift(db: Pool | PgClient, config: FerryConfig, tables: Map<string, { name: string }[]>): Promise<string[]> {
  const problems: string[] = [];
  const publication = publicationName(config.instance);
  for (const [table, mappings] of tables) {
    const names = `mapping${mappings.length > 1 ? 's' : ''} ${mappings.map((m) => m.name).join(', ')} (${table})`;
    const { rows } = await db.query<{ published: boolean; full: boolean; triggered: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid WHERE p.pubname = $2 AND pr.prrelid = c.oid) AS published,
              c.relreplident = 'f' AS full,
              EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'ferry_log_insert') AS triggered
         FROM pg_class c WHERE c.oid = to_regclass($1)`,
      [table, publication],
    );
    const r = rows[0];
    if (!r) continue;
    if (!r.published) problems.push(`${names}: not in publication ${publication}, so not captured: ${FIX}`);
    if (!r.full) problems.push(`${names}: REPLICA IDENTITY is not FULL, so the log would miss the row before a change: ${FIX}`);
    if (r.triggered) problems.push(`${names}: still has capture triggers in WAL mode (each change would be logged twice): ${FIX}`);
  }
  const slot = slotName(config.instance);
  const { rows } = await db.query<{ slot: boolean; position: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1) AS slot,
            to_regclass('ferry.wal_position') IS NOT NULL AND EXISTS (SELECT 1 FROM ferry.wal_position WHERE slot = $1 AND stop_lsn IS NULL) AS position`,
    [slot],
  );
  if (!rows[0]!.slot) problems.push(`replication slot ${slot} does not exist: ${FIX}`);
  else if (!rows[0]!.position) problems.push(`replication slot ${slot} has no position in ferry.wal_position: ${FIX}`);
  return problems;
}
