// Whether the database captures what the config says: the schema's version,
// and each mapped table's capture function and triggers as `migrate` would
// write them. `ferry doctor` reports it; `ferry start` refuses to run on it,
// since a mapping the triggers do not know is never captured, silently.
import type { FerryConfig } from '../config.js';
import type { PgClient, Pool } from '../db/index.js';
import { captureBody, captureFunctionName, TRIGGER_NAMES } from '../statements.js';
import { formatTable, type TableName } from '../table-name.js';
import { sqlFiles, triggerChannel, triggerPlan } from './migrate.js';
import { walDrift } from './wal/wal-drift.js';

export interface DriftReport {
  /** Applied schema version and the newest this Ferry has (0: no schema ferry). */
  schema: { applied: number; latest: number };
  /** One entry per problem, each naming the mappings or table it is about. */
  problems: string[];
}

const FIX = 'run `ferry migrate`';

/** What differs between the config and the database's capture; empty problems when nothing does. */
export async function captureDrift(db: Pool | PgClient, config: FerryConfig): Promise<DriftReport> {
  const latest = Math.max(...sqlFiles().map((f) => f.id));
  const hasSchema = (await db.query(`SELECT to_regclass('ferry.migrations') IS NOT NULL AS ok`)).rows[0].ok as boolean;
  if (!hasSchema) return { schema: { applied: 0, latest }, problems: [`schema ferry does not exist: ${FIX}`] };
  const applied = Number((await db.query(`SELECT coalesce(max(id), 0) AS v FROM ferry.migrations`)).rows[0].v);
  const problems: string[] = [];
  if (applied < latest) problems.push(`schema ferry is at version ${applied}, this Ferry needs ${latest}: ${FIX}`);

  const plan = triggerPlan(config);
  if (config.capture.mode === 'wal') problems.push(...(await walDrift(db, config, plan)));
  else
    for (const [table, mappings] of plan) {
      const names = `mapping${mappings.length > 1 ? 's' : ''} ${mappings.map((m) => m.name).join(', ')} (${table})`;
      const fn = await db.query<{ body: string }>(`SELECT prosrc AS body FROM pg_proc WHERE oid = to_regprocedure($1)`, [
        `${captureFunctionName(table)}()`,
      ]);
      const triggers = await db.query<{ name: string }>(
        `SELECT tgname AS name FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = ANY($2) AND tgenabled <> 'D'`,
        [table, [...TRIGGER_NAMES]],
      );
      const missing = TRIGGER_NAMES.filter((t) => !triggers.rows.some((r) => r.name === t));
      if (!fn.rows[0] || missing.length === TRIGGER_NAMES.length) problems.push(`${names}: not captured (no Ferry trigger): ${FIX}`);
      else if (missing.length > 0)
        problems.push(`${names}: trigger${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing or disabled: ${FIX}`);
      else if (fn.rows[0].body !== captureBody(mappings, triggerChannel(config, table), 'ferry.database_trigger_log'))
        problems.push(`${names}: the trigger captures differently from the config: ${FIX}`);
    }
  // Tables still captured although no mapping reads them (migrate drops their triggers).
  const captured = await db.query<TableName>(
    `SELECT DISTINCT n.nspname AS schema, c.relname AS name
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.tgfoid = to_regproc('ferry.refuse_truncate')`,
  );
  for (const table of captured.rows.map(formatTable).filter((t) => !plan.has(t)))
    problems.push(`table ${table} is captured but no mapping reads it: ${FIX}`);
  return { schema: { applied, latest }, problems };
}

/** Thrown by `ferry start` when the database does not capture what the config says. */
export class CaptureDriftError extends Error {
  override name = 'CaptureDriftError';
  constructor(problems: string[]) {
    super(`the database does not capture what the config says; refusing to start:\n  - ${problems.join('\n  - ')}`);
  }
}
