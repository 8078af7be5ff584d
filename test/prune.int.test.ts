// `ferry prune`: retention of the log table, run as an operator runs it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
import { migrate } from '../src/capture/migrate.js';
import { pruneLogs } from '../src/operate/prune.js';
import { runCli, writeCliConfig } from './support/cli.js';
import { createTestDatabase, testConfig, type TestDatabase } from './support/harness.js';

const FILE = import.meta.url;

let db: TestDatabase;
let config: FerryConfig;
let configFile: string;

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  config = testConfig(FILE, db, { mappings: exampleSubset('users_to_accounts') });
  await migrate(db.pool, config);
  configFile = writeCliConfig('prune.config.ts', { database: { url: db.url }, temporal: config.temporal }, "exampleSubset('users_to_accounts')");
});

afterAll(async () => {
  await db?.drop();
});

/** Log rows of every status, captured `ageDays` ago; returns their ids by status. */
async function seed(ageDays: number, perStatus = 3): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const status of ['pending', 'synced', 'skipped', 'failed']) {
    const { rows } = await db.pool.query(
      `INSERT INTO ferry.database_trigger_log (created_at, mapping, table_name, op, row_key, new_row, status, synced_at, error)
       SELECT now() - make_interval(days => $1), 'users_to_accounts', 'portal.users', 'INSERT', g::text, '{}'::jsonb, $2::text,
              CASE WHEN $2 = 'pending' THEN NULL ELSE now() - make_interval(days => $1) END,
              CASE WHEN $2 = 'failed' THEN 'boom' END
         FROM generate_series(1, $3) g RETURNING id`,
      [ageDays, status, perStatus],
    );
    out[status] = rows.map((r) => r.id);
  }
  return out;
}

const remaining = async () => (await db.pool.query(`SELECT id FROM ferry.database_trigger_log ORDER BY id`)).rows.map((r) => r.id as number);

describe('ferry prune', () => {
  it('deletes synced and skipped logs older than the age, in batches, and keeps pending, failed and young ones', async () => {
    const old = await seed(10);
    const young = await seed(1);
    const { code, stdout, stderr } = await runCli(['prune', '--config', configFile, '--older-than', '7d', '--batch-size', '2']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('pruned 6 log(s)');
    const kept = [...old.pending!, ...old.failed!, ...Object.values(young).flat()].sort((a, b) => a - b);
    expect(await remaining()).toEqual(kept);
    // It ends with VACUUM (ANALYZE) of the log: the catalog counts the rows left (-1: never vacuumed nor analyzed).
    const { rows } = await db.pool.query(`SELECT reltuples::int AS n FROM pg_class WHERE oid = 'ferry.database_trigger_log'::regclass`);
    expect(rows[0].n).toBe(kept.length);

    // Nothing more to do the second time; a shorter age takes the young ones.
    expect(await pruneLogs(db.pool, { olderThanMs: 7 * 86_400_000, batchSize: 1000 })).toBe(0);
    expect(await pruneLogs(db.pool, { olderThanMs: 3_600_000, batchSize: 5 })).toBe(6);
    expect(await remaining()).toEqual([...old.pending!, ...old.failed!, ...young.pending!, ...young.failed!].sort((a, b) => a - b));
  });

  it('leaves a log alone while a worker holds it', async () => {
    const { synced } = await seed(10, 2);
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM ferry.database_trigger_log WHERE id = $1 FOR UPDATE', [synced![0]]);
      // SKIP LOCKED: the held row is passed over, not waited for; the other
      // synced one and both skipped ones go.
      expect(await pruneLogs(db.pool, { olderThanMs: 7 * 86_400_000, batchSize: 10 })).toBe(3);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(await remaining()).toContain(synced![0]);
  });

  it('exits 2 without --older-than or with a bad batch size', async () => {
    const missing = await runCli(['prune', '--config', configFile]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('prune needs --older-than AGE');
    const bad = await runCli(['prune', '--config', configFile, '--older-than', '7d', '--batch-size', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--batch-size: not a positive whole number');
  });
});
