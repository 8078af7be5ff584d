import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parseConfig, type FerryConfig } from '../src/config.js';
import { createPool, type Pool } from '../src/db/index.js';
import { migrate } from '../src/capture/migrate.js';
import { exampleMappings } from '../example/mappings.js';

const SCHEMA = readFileSync(fileURLToPath(new URL('../example/schema.sql', import.meta.url)), 'utf8');

// bench.* holds what only the bench needs: the unmapped twin of portal.users
// (capture overhead), the write counter on salesforce.account (burst) and
// the plain loop's target (bulk burst).
const BENCH_SQL = `
  CREATE SCHEMA bench;
  CREATE TABLE bench.users_unmapped (
    id serial PRIMARY KEY, email text, full_name text, created_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE bench.account_writes (portal_user_id__c text PRIMARY KEY, n integer NOT NULL);
  CREATE FUNCTION bench.count_write() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO bench.account_writes VALUES (NEW.portal_user_id__c, 1)
      ON CONFLICT (portal_user_id__c) DO UPDATE SET n = bench.account_writes.n + 1;
    RETURN NULL;
  END $$;
  CREATE TRIGGER bench_count_write AFTER INSERT OR UPDATE ON salesforce.account
    FOR EACH ROW EXECUTE FUNCTION bench.count_write();
  -- The plain Node loop's target: salesforce.account's twin, without triggers.
  CREATE TABLE bench.account_twin (LIKE salesforce.account INCLUDING ALL);`;

export interface BenchDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

/** Drops and creates the bench database with the example's schema, migrated. */
export async function createBenchDatabase(adminUrl: string, name: string): Promise<BenchDatabase> {
  await admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), 12);
  await pool.query(SCHEMA + BENCH_SQL);
  return {
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      // WAL mode's slot keeps a database from being dropped.
      await admin(
        adminUrl,
        `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = '${name}' AND active_pid IS NOT NULL`,
      );
      await new Promise((r) => setTimeout(r, 200));
      await admin(adminUrl, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '${name}'`);
      await admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function admin(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Ferry's config for the bench: the example's mappings, missingParent as in the example; the default capture mode unless given. */
export function benchConfig(url: string, address: string, capture?: { notify: boolean; mode?: 'trigger' | 'wal' }): FerryConfig {
  return parseConfig(
    {
      database: { url },
      ...(capture ? { capture } : {}),
      // BENCH_BATCH_THRESHOLD / BENCH_BATCH_SIZE: try another listener.batchThreshold / batchSize than the default.
      listener: {
        ...(process.env.BENCH_BATCH_THRESHOLD ? { batchThreshold: Number(process.env.BENCH_BATCH_THRESHOLD) } : {}),
        ...(process.env.BENCH_BATCH_SIZE ? { batchSize: Number(process.env.BENCH_BATCH_SIZE) } : {}),
      },
      // BENCH_BATCH_SLOTS: try another worker.batchSlots than the default.
      ...(process.env.BENCH_BATCH_SLOTS ? { worker: { batchSlots: Number(process.env.BENCH_BATCH_SLOTS) } } : {}),
      // Transforms in threads, as under the `ferry` command (they import the example's config module); BENCH_TRANSFORMS=inline: in the worker's thread.
      transforms: { isolation: process.env.BENCH_TRANSFORMS ?? 'thread', module: new URL('../example/ferry.config.ts', import.meta.url).href },
      temporal: { address, namespace: 'default', taskQueue: 'ferry-bench' },
      missingParent: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10 },
      mappings: exampleMappings,
    },
    {}, // no environment overrides: the bench owns its server and database
  );
}

export async function migrateBench(config: FerryConfig): Promise<void> {
  const pool = createPool(config.database.url, 1);
  try {
    await migrate(pool, config);
  } finally {
    await pool.end();
  }
}
