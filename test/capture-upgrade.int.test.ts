// Upgrading a database that an earlier version migrated, while the app keeps
// writing: from the row trigger (sql/001-002) to statement-level capture, and
// from 003's generic ferry.capture() to each table's own capture function (007).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleMappings } from '../example/mappings.js';
import { migrate, sqlFiles, triggerPlan } from '../src/capture/migrate.js';
import { captureFunctionName, createTriggerStatements, quoteLiteral, quoteTable } from '../src/statements.js';
import type { FerryConfig } from '../src/config.js';
import { createTestDatabase, testConfig, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
let db: TestDatabase;
const config = () => testConfig(FILE, db, { mappings: exampleMappings });

beforeAll(async () => {
  db = await createTestDatabase(FILE);
});
afterAll(() => db?.drop());

/** sql/000 up to `lastId`, recorded as an earlier version's `migrate` would have. */
async function applySqlUpTo(target: TestDatabase, lastId: number): Promise<void> {
  for (const file of sqlFiles().filter((f) => f.id <= lastId)) {
    await target.pool.query(file.sql);
    if (file.id > 0) await target.pool.query('INSERT INTO ferry.migrations (id, name) VALUES ($1, $2)', [file.id, file.name]);
  }
}

/** What the previous version's `migrate` left: sql/000-002 and one row trigger per table. */
async function installPreviousVersion(): Promise<void> {
  await applySqlUpTo(db, 2);
  for (const [table, mappings] of triggerPlan(config())) {
    const args = mappings
      .flatMap((m) => [m.name, m.key, m.target])
      .map(quoteLiteral)
      .join(', ');
    await db.pool.query(
      `CREATE TRIGGER ferry_log AFTER INSERT OR UPDATE OR DELETE ON ${quoteTable(table)} FOR EACH ROW EXECUTE FUNCTION ferry.log_change(${args})`,
    );
  }
}

interface Writer {
  /** Committed changes, as "OP key". */
  done: string[];
  stop(): Promise<void>;
}

/** Inserts a user, then updates it, in a loop on its own connection; records what committed. */
async function startWriter(n: number, db: TestDatabase): Promise<Writer> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const done: string[] = [];
  let stopping = false;
  const loop = (async () => {
    for (let i = 0; !stopping; i++) {
      const key = 300_000 + n * 10_000 + i;
      await client.query(`INSERT INTO portal.users (id, full_name) VALUES ($1, 'w')`, [key]);
      done.push(`INSERT ${key}`);
      await client.query(`UPDATE portal.users SET full_name = 'w2' WHERE id = $1`, [key]);
      done.push(`UPDATE ${key}`);
    }
  })();
  return {
    done,
    async stop() {
      stopping = true;
      await loop;
      await client.end();
    },
  };
}

/**
 * The upgrade under load: four writers, and a transaction open across the
 * switch (it began under the old capture, so migrate waits for it; it writes
 * again while migrate waits, its lock wait seen on `waitedQuery`: from sql/003
 * on, migrate takes the captured tables before its first file). Returns
 * migrate's result once 100 more changes committed under the new capture,
 * and every change that committed, as "OP key".
 */
async function upgradeWhileWriting(target: TestDatabase, cfg: FerryConfig, waitedQuery: string) {
  const writers = await Promise.all([0, 1, 2, 3].map((n) => startWriter(n, target)));
  const changes = () => writers.reduce((n, w) => n + w.done.length, 0);
  const open = new pg.Client({ connectionString: target.url });
  await open.connect();
  await open.query('BEGIN');
  await open.query(`INSERT INTO portal.users (id, full_name) VALUES (399001, 'open')`);

  await waitFor('writers under the old capture', () => changes() >= 100);
  const migrating = migrate(target.pool, cfg);
  await waitFor('migrate waiting for the open transaction', async () => {
    const { rows } = await target.pool.query(
      `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND wait_event_type = 'Lock' AND query LIKE '%' || $1 || '%'`,
      [waitedQuery],
    );
    return rows.length > 0;
  });
  await open.query(`UPDATE portal.users SET full_name = 'open2' WHERE id = 399001`);
  await open.query('COMMIT');
  await open.end();
  const result = await migrating;

  const atSwitch = changes();
  await waitFor('writers under the new capture', () => changes() >= atSwitch + 100);
  await Promise.all(writers.map((w) => w.stop()));
  return { result, expected: [...writers.flatMap((w) => w.done), 'INSERT 399001', 'UPDATE 399001'].sort() };
}

/** upgradeWhileWriting, then: the files after `lastId` applied, and every committed change logged once. Returns the logs. */
async function upgradeLogsEachChange(target: TestDatabase, cfg: FerryConfig, waitedQuery: string, lastId: number) {
  const { result, expected } = await upgradeWhileWriting(target, cfg, waitedQuery);
  expect(result.applied).toEqual(
    sqlFiles()
      .filter((f) => f.id > lastId)
      .map((f) => f.name),
  );
  const { rows } = await target.pool.query<{ change: string; new_row: unknown }>(
    `SELECT op || ' ' || row_key AS change, new_row FROM ferry.database_trigger_log WHERE mapping = 'users_to_accounts'`,
  );
  expect(rows.map((r) => r.change).sort()).toEqual(expected);
  return rows;
}

describe('ferry migrate on an install of the previous version', () => {
  it('switches to statement triggers in one transaction, and every change made before, during and after is logged once', async () => {
    await installPreviousVersion();
    // Everything after the previous version's files (003: statement capture; later ones add columns).
    const rows = await upgradeLogsEachChange(db, config(), 'DROP FUNCTION IF EXISTS ferry.log_change', 2);
    // Both triggers wrote some of them: the row trigger kept new_row, the statement trigger does not.
    expect(rows.some((r) => r.new_row !== null)).toBe(true);
    expect(rows.some((r) => r.new_row === null)).toBe(true);
    const old = await db.pool.query(`SELECT 1 FROM pg_trigger WHERE tgname = 'ferry_log'`);
    expect(old.rowCount).toBe(0);
  });
});

describe('ferry migrate on an install with the generic ferry.capture() (sql/003-006)', () => {
  const file = FILE.replace(/\.test\.ts$/, '_003.test.ts');
  let db3: TestDatabase;
  const config3 = () => testConfig(file, db3, { mappings: exampleMappings });
  beforeAll(async () => {
    db3 = await createTestDatabase(file);
  });
  afterAll(() => db3?.drop());

  /** What migrate left before sql/007: sql/000-006 and ferry.capture()'s statement triggers (poll mode). */
  async function installGenericCapture(): Promise<void> {
    await applySqlUpTo(db3, 6);
    for (const [table, mappings] of triggerPlan(config3())) {
      const args = ['', ...mappings.flatMap((m) => [m.name, m.key, m.target])].map(quoteLiteral).join(', ');
      const on = quoteTable(table);
      for (const [name, event, referencing] of [
        ['ferry_log_insert', 'INSERT', 'NEW TABLE AS ferry_new'],
        ['ferry_log_update', 'UPDATE', 'OLD TABLE AS ferry_old NEW TABLE AS ferry_new'],
        ['ferry_log_delete', 'DELETE', 'OLD TABLE AS ferry_old'],
      ])
        await db3.pool.query(
          `CREATE TRIGGER ${name} AFTER ${event} ON ${on} REFERENCING ${referencing} FOR EACH STATEMENT EXECUTE FUNCTION ferry.capture(${args})`,
        );
      await db3.pool.query(
        `CREATE TRIGGER ferry_refuse_truncate BEFORE TRUNCATE ON ${on} FOR EACH STATEMENT EXECUTE FUNCTION ferry.refuse_truncate()`,
      );
    }
  }

  it('switches to per-table capture functions in one transaction, and every change made before, during and after is logged once', async () => {
    await installGenericCapture();
    await upgradeLogsEachChange(db3, config3(), 'CREATE OR REPLACE TRIGGER ferry_refuse_truncate', 6);
    const triggers = await db3.pool.query<{ tgname: string; fn: string }>(
      `SELECT tgname, CASE WHEN tgfoid = $1::regproc THEN 'own' ELSE tgfoid::regproc::text END AS fn
         FROM pg_trigger WHERE tgrelid = 'portal.users'::regclass AND NOT tgisinternal ORDER BY tgname`,
      [captureFunctionName('portal.users')],
    );
    expect(triggers.rows).toEqual([
      { tgname: 'ferry_log_delete', fn: 'own' },
      { tgname: 'ferry_log_insert', fn: 'own' },
      { tgname: 'ferry_log_update', fn: 'own' },
      { tgname: 'ferry_refuse_truncate', fn: 'ferry.refuse_truncate' },
    ]);
    expect((await db3.pool.query(`SELECT to_regproc('ferry.capture') AS f`)).rows[0].f).toBeNull();
  });
});

describe('ferry migrate on an install with per-table capture functions (sql/007-008)', () => {
  const file = FILE.replace(/\.test\.ts$/, '_008.test.ts');
  let db8: TestDatabase;
  const config8 = () => testConfig(file, db8, { mappings: exampleMappings });
  beforeAll(async () => {
    db8 = await createTestDatabase(file);
  });
  afterAll(() => db8?.drop());

  // A later file alters the log table, which every capturing write reaches
  // after its own table: migrate must not deadlock with those writes.
  it('applies the later files while the app writes, and every change made before, during and after is logged once', async () => {
    await applySqlUpTo(db8, 8);
    for (const [table, mappings] of triggerPlan(config8()))
      for (const statement of createTriggerStatements(table, mappings, '')) await db8.pool.query(statement);
    await upgradeLogsEachChange(db8, config8(), 'CREATE OR REPLACE TRIGGER ferry_refuse_truncate', 8);
  });
});
