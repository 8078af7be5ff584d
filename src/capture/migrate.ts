import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, type FerryConfig } from '../config.js';
import { channelFor } from '../contract/index.js';
import { withTransaction, type PgClient, type Pool } from '../db/index.js';
import { formatTable, parseTable, type TableName } from '../table-name.js';
import { applyWalMode, finishWalCapture, markWalStop, prepareWalSlot, walDdl } from './wal/wal-migrate.js';
import {
  createTriggerStatements,
  dropTriggerStatements,
  quoteIdent,
  quoteTable,
  truncateGuardStatement,
  type TriggerMapping,
} from '../statements.js';

export const SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));

export interface SqlFile {
  id: number;
  name: string;
  sql: string;
}

/** sql/NNN_name.sql in order; 000 is the bootstrap, run every time. */
export function sqlFiles(dir = SQL_DIR): SqlFile[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_.+\.sql$/.test(f))
    .sort()
    .map((f) => ({ id: Number(f.slice(0, 3)), name: f, sql: readFileSync(path.join(dir, f), 'utf8') }));
}

/** One trigger per mapped source table, listing every mapping that reads it. */
export function triggerPlan(config: FerryConfig): Map<string, TriggerMapping[]> {
  const plan = new Map<string, TriggerMapping[]>();
  for (const m of config.mappings) {
    const list = plan.get(m.source.table) ?? [];
    list.push({ name: m.name, key: m.source.key, target: m.target.table });
    plan.set(m.source.table, list);
  }
  return plan;
}

/** The channel a table's triggers notify on; '' in poll mode (no NOTIFY). */
export function triggerChannel(config: FerryConfig, table: string): string {
  return config.capture.notify ? channelFor(parseTable(table)!.schema) : '';
}

/** The DDL `migrate` would run on an empty database, for a DBA to read first (`migrate --print`). */
export function printableDdl(config: FerryConfig): string {
  const parts = sqlFiles().map((f) => `-- ${f.name}\n${f.sql.trim()}\n`);
  if (config.capture.mode === 'wal') {
    parts.push('-- WAL capture (from the config; src/capture/wal/wal-migrate.ts)');
    parts.push(...walDdl(config, [...triggerPlan(config).keys()]));
  } else {
    parts.push('-- triggers (from the config)');
    for (const [table, mappings] of triggerPlan(config))
      for (const statement of createTriggerStatements(table, mappings, triggerChannel(config, table))) parts.push(`${statement};`);
  }
  return parts.join('\n') + '\n';
}

/** Problems that make the config unusable against this database, each said plainly. */
export async function schemaProblems(client: PgClient, config: FerryConfig): Promise<string[]> {
  const problems: string[] = [];
  const columnExists = async (table: string, column: string) =>
    (
      await client.query(`SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 AND attnum > 0 AND NOT attisdropped`, [
        table,
        column,
      ])
    ).rowCount! > 0;
  // A key without a unique index works while its values are unique; NULLs may repeat (a NULL key is outside the mapping).
  const repeatedKey = async (table: string, column: string) =>
    (
      await client.query<{ k: string }>(
        `SELECT ${quoteIdent(column)}::text AS k FROM ${quoteTable(table)} WHERE ${quoteIdent(column)} IS NOT NULL GROUP BY 1 HAVING count(*) > 1 LIMIT 1`,
      )
    ).rows[0]?.k ?? null;
  const tableExists = async (table: string) => (await client.query(`SELECT to_regclass($1) AS t`, [table])).rows[0].t !== null;
  const uniqueOn = async (table: string, column: string) =>
    (
      await client.query(
        `SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
          WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND a.attname = $2`,
        [table, column],
      )
    ).rowCount! > 0;

  for (const m of config.mappings) {
    const where = `mapping ${m.name}`;
    if (!(await tableExists(m.source.table))) problems.push(`${where}: source table ${m.source.table} does not exist`);
    else if (!(await columnExists(m.source.table, m.source.key)))
      problems.push(`${where}: source table ${m.source.table} has no column ${m.source.key}`);
    else if (!(await uniqueOn(m.source.table, m.source.key)) && (await repeatedKey(m.source.table, m.source.key)) !== null)
      problems.push(
        `${where}: source key ${m.source.table}.${m.source.key} is not unique: ${JSON.stringify(await repeatedKey(m.source.table, m.source.key))} ` +
          `names more than one row (NULLs may repeat: such rows are outside the mapping); ` +
          `e.g. CREATE UNIQUE INDEX ON ${m.source.table} (${m.source.key}) once the duplicates are gone`,
      );
    if (!(await tableExists(m.target.table))) problems.push(`${where}: target table ${m.target.table} does not exist`);
    else if (!(await uniqueOn(m.target.table, m.target.key)))
      problems.push(
        `${where}: target key ${m.target.table}.${m.target.key} needs a unique index or constraint on that column alone ` +
          `(the upsert uses ON CONFLICT); e.g. CREATE UNIQUE INDEX ON ${m.target.table} (${m.target.key})`,
      );
    if (m.link && (await tableExists(m.source.table)) && !(await columnExists(m.source.table, m.link.writeBack)))
      problems.push(`${where}: link.writeBack column ${m.source.table}.${m.link.writeBack} does not exist`);
    const downstream = m.target.downstream;
    if (downstream && (await tableExists(m.target.table)))
      for (const [key, col] of [
        ['status', downstream.status],
        ['error', downstream.error],
      ] as const)
        if (col !== undefined && !(await columnExists(m.target.table, col)))
          problems.push(`${where}: target.downstream.${key} column ${m.target.table}.${col} does not exist`);
    if (typeof m.onDelete === 'object' && (await tableExists(m.target.table)) && !(await columnExists(m.target.table, m.onDelete.softDelete)))
      problems.push(`${where}: onDelete.softDelete column ${m.target.table}.${m.onDelete.softDelete} does not exist`);
  }
  return problems;
}

/**
 * Before sql files run: takes every table that a Ferry trigger captures now or
 * will capture, against writes, in one order. A file may alter the log table
 * (the ALTER waits for, then blocks, every capturing write), and an app's
 * write takes its table first and the log second (in the trigger). Without
 * this, a write could take its table while the ALTER holds the log, and wait
 * for the log while migrate waits for that table to put its triggers on: a
 * deadlock that fails the app's write or the migration. Taken this way, a
 * write waits at its table and goes on once migrate committed. The lock
 * comes from putting each table's TRUNCATE guard in place again: LOCK TABLE
 * would need rights that the owner role need not have (docs/security.md, "Least
 * privilege"). Before sql/003 there is no guard yet, and none is needed:
 * 003 drops the row triggers, and so takes their tables, before anything
 * alters the log.
 */
async function takeCapturedTables(client: PgClient, config: FerryConfig): Promise<void> {
  const { rows } = await client.query<TableName>(
    `SELECT DISTINCT n.nspname AS schema, c.relname AS name
       FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE p.pronamespace = to_regnamespace('ferry') AND NOT t.tgisinternal`,
  );
  if ((await client.query(`SELECT to_regproc('ferry.refuse_truncate') AS f`)).rows[0].f === null) return;
  const tables = [...new Set([...rows.map(formatTable), ...triggerPlan(config).keys()])].sort();
  for (const table of tables) await client.query(truncateGuardStatement(table));
}

export interface MigrateResult {
  applied: string[];
  triggers: string[];
  dropped: string[];
  /** WAL mode: the replication slot was created, created anew (it was lost), or kept. */
  slot?: 'created' | 'recreated' | 'kept';
}

/**
 * Applies pending sql/ files in order and puts the triggers in place, in one
 * transaction under an advisory lock (two processes migrating at once take
 * turns). Idempotent. Throws ConfigError when the config does not fit the database.
 */
export async function migrate(pool: Pool, config: FerryConfig): Promise<MigrateResult> {
  const wal = config.capture.mode === 'wal';
  const slot = wal ? await prepareWalSlot(pool, config) : undefined;
  const result = await withTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('ferry.migrate'))`);
    const problems = await schemaProblems(client, config);
    if (problems.length) throw new ConfigError(`the database does not fit the config:\n  - ${problems.join('\n  - ')}`);

    const files = sqlFiles();
    await client.query(files.find((f) => f.id === 0)!.sql);
    const done = new Set((await client.query<{ id: number }>('SELECT id FROM ferry.migrations')).rows.map((r) => r.id));
    const pending = files.filter((f) => f.id !== 0 && !done.has(f.id));
    if (pending.length) await takeCapturedTables(client, config);
    const applied: string[] = [];
    for (const file of pending) {
      await client.query(file.sql);
      await client.query('INSERT INTO ferry.migrations (id, name) VALUES ($1, $2)', [file.id, file.name]);
      applied.push(file.name);
    }

    const plan = triggerPlan(config);
    let walStop: string | undefined;
    if (wal) {
      // WAL mode: no capture triggers (the TRUNCATE guard stays); capture reads the slot from this point on.
      const fromTriggers = (await capturedTables(client)).length > 0;
      for (const table of plan.keys()) {
        for (const statement of dropTriggerStatements(table)) await client.query(statement);
        await client.query(truncateGuardStatement(table));
      }
      await applyWalMode(client, config, [...plan.keys()], fromTriggers);
    } else {
      for (const [table, mappings] of plan)
        for (const statement of createTriggerStatements(table, mappings, triggerChannel(config, table))) await client.query(statement);
      walStop = await markWalStop(client, config);
    }
    // Triggers on tables that no mapping reads any more (every captured table
    // has the TRUNCATE guard; its capture function goes with its triggers).
    const { rows } = await client.query<TableName>(
      `SELECT DISTINCT n.nspname AS schema, c.relname AS name
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE t.tgfoid = 'ferry.refuse_truncate'::regproc`,
    );
    const dropped = rows.map(formatTable).filter((t) => !plan.has(t));
    for (const table of dropped) for (const statement of dropTriggerStatements(table)) await client.query(statement);
    return { applied, triggers: wal ? [] : [...plan.keys()], dropped, walStop, ...(slot ? { slot } : {}) };
  });
  // Back to triggers from WAL: what committed before the triggers were there is read from the slot first.
  const { walStop, ...shown } = result;
  if (walStop) await finishWalCapture(pool, config, walStop);
  return shown;
}

/** Tables with a capture trigger of Ferry's now. */
async function capturedTables(client: PgClient): Promise<string[]> {
  const { rows } = await client.query<TableName>(
    `SELECT DISTINCT n.nspname AS schema, c.relname AS name
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.tgname = 'ferry_log_insert' AND NOT t.tgisinternal`,
  );
  return rows.map(formatTable);
}

/** Creates the database named in the URL when it does not exist (for `ferry dev` and tests). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const { default: pg } = await import('pg');
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount) return false;
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    return true;
  } finally {
    await client.end();
  }
}
