// What `ferry migrate` does for WAL mode, and to switch between the modes
// without losing or doubling a change (docs/capture.md, "Switching modes").
import pg from 'pg';
import type { FerryConfig } from '../../config.js';
import { ConfigError } from '../../config/errors.js';
import type { PgClient, Pool } from '../../db/index.js';
import { FerryEvents } from '../../events.js';
import { silentLogger } from '../../logger.js';
import { quoteIdent, quoteTable, truncateGuardStatement } from '../../statements.js';
import { publicationName, slotName } from './names.js';
import { parseLsn } from './pgoutput.js';
import { WalCapture } from './wal-capture.js';

/** What keeps WAL mode from running here, each with its exact fix. */
export async function walProblems(client: Pick<Pool, 'query'>): Promise<string[]> {
  const { rows } = await client.query<{ wal_level: string; role: string; replication: boolean }>(
    `SELECT current_setting('wal_level') AS wal_level, current_user AS role,
            r.rolreplication OR r.rolsuper
              OR (to_regrole('rds_replication') IS NOT NULL AND pg_has_role(current_user, 'rds_replication', 'member')) AS replication
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  const { wal_level, role, replication } = rows[0]!;
  const problems: string[] = [];
  if (wal_level !== 'logical')
    problems.push(
      `capture.mode 'wal' needs wal_level = logical (it is ${wal_level}): run ALTER SYSTEM SET wal_level = logical; then restart Postgres ` +
        `(RDS/Aurora: rds.logical_replication = 1 in the parameter group; Cloud SQL: the cloudsql.logical_decoding flag)`,
    );
  if (!replication)
    problems.push(
      `capture.mode 'wal' needs the REPLICATION right for role ${role}: run ALTER ROLE ${quoteIdent(role)} WITH REPLICATION; ` +
        `(RDS/Aurora: GRANT rds_replication TO ${quoteIdent(role)};)`,
    );
  return problems;
}

/**
 * The listener streams the slot on a replication connection, which
 * pg_hba.conf allows apart from ordinary ones (its `replication` lines): the
 * server's refusal, with the fix, or undefined when one connects.
 */
export async function replicationRefused(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, replication: 'database' } as pg.ClientConfig);
  try {
    await client.connect();
    await client.query('IDENTIFY_SYSTEM');
    return undefined;
  } catch (err) {
    return (
      `capture.mode 'wal' streams the slot on a replication connection, and the server refused one: ${(err as Error).message}. ` +
      `Allow it in pg_hba.conf with a "replication" line for this role and address (e.g. host replication <role> <address> scram-sha-256), then reload Postgres`
    );
  } finally {
    await client.end().catch(() => {});
  }
}

/** The slot's state, or undefined when it does not exist. */
export async function slotState(client: PgClient | Pool, slot: string): Promise<{ walStatus: string | null; active: boolean } | undefined> {
  const { rows } = await client.query<{ wal_status: string | null; active: boolean }>(
    `SELECT wal_status, active FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  return rows[0] ? { walStatus: rows[0].wal_status, active: rows[0].active } : undefined;
}

/**
 * Before migrate's transaction (a slot cannot be made in a transaction that
 * wrote): checks the server, and makes the durable pgoutput slot when there
 * is none, or a new one for a lost slot (its changes are gone: `verify
 * --repair` carries what was missed). Returns the problems, if any.
 */
export async function prepareWalSlot(pool: Pool, config: FerryConfig): Promise<'created' | 'recreated' | 'kept'> {
  const problems = await walProblems(pool);
  if (!problems.length) {
    const refused = await replicationRefused(config.database.listenUrl ?? config.database.url);
    if (refused) problems.push(refused);
  }
  if (problems.length) throw new ConfigError(problems.join('\n  - '));
  const slot = slotName(config.instance);
  const state = await slotState(pool, slot);
  if (state && state.walStatus !== 'lost') return 'kept';
  if (state) await pool.query(`SELECT pg_drop_replication_slot($1)`, [slot]);
  await pool.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
  return state ? 'recreated' : 'created';
}

/**
 * In migrate's transaction, WAL mode: the publication of the mapped source
 * tables (inserts, updates, deletes), REPLICA IDENTITY FULL on each (the old
 * image the log keeps), and the position capture starts from. Called after
 * the capture triggers are gone and with every captured table locked against
 * writes: a change that committed before this point was logged by a trigger,
 * one after it is read from the slot, so the position is "now".
 */
export async function applyWalMode(client: PgClient, config: FerryConfig, tables: string[], fromTriggers: boolean): Promise<void> {
  const slot = slotName(config.instance);
  const publication = quoteIdent(publicationName(config.instance));
  const list = tables.map(quoteTable).join(', ');
  const exists = (await client.query(`SELECT 1 FROM pg_publication WHERE pubname = $1`, [publicationName(config.instance)])).rowCount! > 0;
  if (exists) await client.query(`ALTER PUBLICATION ${publication} SET TABLE ${list}`);
  else await client.query(`CREATE PUBLICATION ${publication} FOR TABLE ${list} WITH (publish = 'insert, update, delete')`);
  for (const table of tables) {
    const { rows } = await client.query<{ full: boolean }>(`SELECT relreplident = 'f' AS full FROM pg_class WHERE oid = to_regclass($1)`, [table]);
    if (!rows[0]?.full) await client.query(`ALTER TABLE ${quoteTable(table)} REPLICA IDENTITY FULL`);
  }
  await client.query(
    `INSERT INTO ferry.wal_position (slot, lsn) VALUES ($1, pg_current_wal_insert_lsn())
     ON CONFLICT (slot) DO UPDATE SET lsn = CASE WHEN $2 THEN excluded.lsn ELSE ferry.wal_position.lsn END, stop_lsn = NULL, updated_at = now()`,
    [slot, fromTriggers],
  );
}

/** What applyWalMode and prepareWalSlot run, for `migrate --print`. */
export function walDdl(config: FerryConfig, tables: string[]): string[] {
  const publication = quoteIdent(publicationName(config.instance));
  return [
    `SELECT pg_create_logical_replication_slot('${slotName(config.instance)}', 'pgoutput');  -- when missing, or lost`,
    `CREATE PUBLICATION ${publication} FOR TABLE ${tables.map(quoteTable).join(', ')} WITH (publish = 'insert, update, delete');  -- or ALTER PUBLICATION ... SET TABLE`,
    ...tables.map((t) => `ALTER TABLE ${quoteTable(t)} REPLICA IDENTITY FULL;`),
    ...tables.map((t) => `${truncateGuardStatement(t)};`),
  ];
}

/**
 * In migrate's transaction, trigger mode, when a WAL slot is still there:
 * the triggers are in place from this point on, so capture from the slot
 * stops here. Returns the point, or undefined when WAL mode never ran.
 */
export async function markWalStop(client: PgClient, config: FerryConfig): Promise<string | undefined> {
  if ((await client.query(`SELECT to_regclass('ferry.wal_position') AS t`)).rows[0].t === null) return undefined;
  const { rows } = await client.query<{ stop: string }>(
    `UPDATE ferry.wal_position SET stop_lsn = coalesce(stop_lsn, pg_current_wal_insert_lsn()), updated_at = now() WHERE slot = $1 RETURNING stop_lsn::text AS stop`,
    [slotName(config.instance)],
  );
  return rows[0]?.stop;
}

/**
 * After migrate committed the triggers: reads the slot up to the switch point
 * into the log (what committed before the triggers were there), then drops
 * the slot and the publication. A running WAL listener must be stopped first.
 */
export async function finishWalCapture(pool: Pool, config: FerryConfig, stop: string): Promise<void> {
  const slot = slotName(config.instance);
  const state = await slotState(pool, slot);
  if (state?.active)
    throw new ConfigError(
      `the replication slot ${slot} is in use: stop the running \`ferry start\`/\`listen\` (WAL mode) before switching to triggers`,
    );
  if (state && state.walStatus !== 'lost') {
    const capture = new WalCapture({ config, pool, logger: silentLogger, events: new FerryEvents(), onLogged: () => {}, until: parseLsn(stop) });
    capture.start();
    // A message after the switch point tells capture it has read everything before it.
    await pool.query(`SELECT pg_logical_emit_message(false, 'ferry.heartbeat', '')`);
    await capture.done;
    await capture.close();
    await pool.query(`SELECT pg_drop_replication_slot($1)`, [slot]);
  }
  await pool.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(publicationName(config.instance))}`);
  await pool.query(`DELETE FROM ferry.wal_position WHERE slot = $1`, [slot]);
}
