// WAL mode under stress: the listener killed with -9 mid-stream, switching
// modes both ways while the app writes, and a slot that Postgres invalidated
// (a tiny max_slot_wal_keep_size in a private cluster), with its recovery.
import { afterAll, describe, expect, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import { migrate } from '../src/capture/migrate.js';
import { WalCapture } from '../src/capture/wal/wal-capture.js';
import { walProblems } from '../src/capture/wal/wal-migrate.js';
import { ConfigError } from '../src/config.js';
import pg from 'pg';
import { slotName } from '../src/capture/wal/names.js';
import type { FerryConfig } from '../src/config.js';
import { FerryEvents } from '../src/events.js';
import { silentLogger } from '../src/logger.js';
import { collectStatus } from '../src/operate/status.js';
import { runCli, startServing, writeCliConfig } from './support/cli.js';
import { createTestDatabase, startFerry, testConfig, type TestDatabase } from './support/harness.js';
import { privatePostgres, type PrivatePostgres } from './support/private-postgres.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
const MAPPINGS = exampleSubset('users_to_accounts');
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
});

/** Inserts users one transaction each until stopped; resolves with the ids it wrote. */
function writer(db: TestDatabase, prefix: string) {
  let stop = false;
  let count = 0;
  const done = (async () => {
    const ids: number[] = [];
    while (!stop) {
      const { rows } = await db.pool.query(`INSERT INTO portal.users (full_name) VALUES ($1) RETURNING id`, [`${prefix} ${count++}`]);
      ids.push(rows[0].id);
    }
    return ids;
  })();
  return {
    written: () => count,
    async stop() {
      stop = true;
      return done;
    },
  };
}

/** Each id's INSERT logs of users_to_accounts: the ids missing, and those logged more than once. */
async function lostAndDoubled(db: TestDatabase, ids: number[]) {
  const { rows } = await db.pool.query<{ k: string; n: number }>(
    `SELECT row_key AS k, count(*)::int AS n FROM ferry.database_trigger_log WHERE mapping = 'users_to_accounts' AND op = 'INSERT' GROUP BY 1`,
  );
  const seen = new Map(rows.map((r) => [r.k, r.n]));
  return { lost: ids.filter((id) => !seen.has(String(id))), doubled: ids.filter((id) => (seen.get(String(id)) ?? 0) > 1) };
}

/** A WAL-mode database on a private cluster started with these settings, gone after the file. */
async function privateDatabase(suffix: string, settings: string[]): Promise<{ db: TestDatabase; config: FerryConfig }> {
  const server: PrivatePostgres = await privatePostgres({ settings });
  cleanup.push(() => server.destroy());
  const db = await createTestDatabase(FILE, '', { mode: 'wal', suffix, adminUrl: server.adminUrl });
  cleanup.push(() => db.drop());
  return { db, config: testConfig(FILE, db, { mappings: MAPPINGS }) };
}

const logged = async (db: TestDatabase) => (await db.pool.query(`SELECT count(*)::int AS n FROM ferry.database_trigger_log`)).rows[0].n as number;

describe('the listener killed with -9 mid-stream', () => {
  it('loses nothing and doubles nothing once a listener runs again', async () => {
    const db = await createTestDatabase(FILE, '', { mode: 'wal', suffix: 'kill' });
    cleanup.push(() => db.drop());
    const config = testConfig(FILE, db, { mappings: MAPPINGS });
    await migrate(db.pool, config);
    const file = writeCliConfig(
      'wal-kill.config.ts',
      { database: { url: db.url }, temporal: config.temporal, capture: { mode: 'wal', heartbeatInterval: 500 } },
      "exampleSubset('users_to_accounts')",
    );
    const w = writer(db, 'kill');
    let listener = await startServing('listen', file);
    cleanup.push(async () => listener.child.kill('SIGKILL'));
    await waitFor('some changes logged', async () => (await logged(db)) >= 30, { timeoutMs: 60_000 });
    listener.child.kill('SIGKILL');
    await listener.exited;
    const atKill = w.written();
    await waitFor('more written while no listener runs', () => w.written() >= atKill + 30, { timeoutMs: 60_000 });
    listener = await startServing('listen', file);
    await waitFor('logging again', async () => (await logged(db)) > atKill + 10, { timeoutMs: 60_000 });
    const ids = await w.stop();
    await waitFor('every change logged', async () => (await lostAndDoubled(db, ids)).lost.length === 0, { timeoutMs: 60_000 });
    expect(await lostAndDoubled(db, ids)).toEqual({ lost: [], doubled: [] });
    listener.child.kill('SIGKILL');
  }, 240_000);
});

describe('switching modes while the app writes', () => {
  it('trigger → wal → trigger: every change logged once', async () => {
    const db = await createTestDatabase(FILE, '', { mode: 'trigger', suffix: 'switch' });
    cleanup.push(() => db.drop());
    const triggerConfig = testConfig(FILE, db, { mappings: MAPPINGS });
    const walConfig: FerryConfig = testConfig(FILE, db, { mappings: MAPPINGS, capture: { mode: 'wal', heartbeatInterval: 500 } });
    await migrate(db.pool, triggerConfig);
    const w = writer(db, 'switch');
    const more = async (n: number) => {
      const at = w.written();
      await waitFor(`${n} more written`, () => w.written() >= at + n, { timeoutMs: 60_000 });
    };
    await more(20);
    expect(await migrate(db.pool, walConfig)).toMatchObject({ triggers: [], slot: 'created' });
    const capture = new WalCapture({ config: walConfig, pool: db.pool, logger: silentLogger, events: new FerryEvents(), onLogged: () => {} });
    capture.start();
    await more(20);
    await capture.close();
    await more(20); // into the slot, with no capture running: migrate reads them
    await migrate(db.pool, triggerConfig);
    await more(20);
    const ids = await w.stop();
    expect(await lostAndDoubled(db, ids)).toEqual({ lost: [], doubled: [] });
    // Back in trigger mode, WAL capture's slot and publication are gone.
    expect((await db.pool.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1`, [slotName(walConfig.instance)])).rowCount).toBe(0);
    expect((await db.pool.query(`SELECT 1 FROM pg_publication`)).rowCount).toBe(0);
  }, 120_000);
});

describe('a slot Postgres invalidated (max_slot_wal_keep_size)', () => {
  it('is reported, capture stops cleanly, and migrate then verify --repair recover', async () => {
    const { db, config } = await privateDatabase('lost', ['max_slot_wal_keep_size=1MB']);
    const account = async (id: number) =>
      (await db.pool.query(`SELECT name FROM salesforce.account WHERE portal_user_id__c = $1`, [String(id)])).rows[0]?.name as string | undefined;
    let ferry = await startFerry(config);
    const [{ id: first }] = (await db.pool.query(`INSERT INTO portal.users (full_name) VALUES ('before') RETURNING id`)).rows;
    await waitFor('carried', async () => (await account(first)) === 'before');
    await ferry.stop();

    // While Ferry is down, a change, then more WAL than the slot may hold.
    const [{ id: missed }] = (await db.pool.query(`INSERT INTO portal.users (full_name) VALUES ('missed') RETURNING id`)).rows;
    await waitFor(
      'the slot lost',
      async () => {
        await db.pool.query(
          `CREATE TEMP TABLE IF NOT EXISTS filler (x text); INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 2000)`,
        );
        await db.pool.query(`SELECT pg_switch_wal()`);
        await db.pool.query(`CHECKPOINT`);
        const { rows } = await db.pool.query(`SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1`, [slotName(config.instance)]);
        return rows[0]?.wal_status === 'lost';
      },
      { timeoutMs: 60_000, intervalMs: 10 },
    );

    // Reported by status; the capture stops (no retry loop) and says how to recover.
    const status = await collectStatus(db.pool, config, { maxPendingAgeMs: 60_000, limit: 5 });
    expect(status.healthy).toBe(false);
    expect(status.slot).toMatchObject({ walStatus: 'lost' });
    expect(status.problems.join('\n')).toMatch(/lost.*ferry migrate.*ferry verify --all --repair/);
    ferry = await startFerry(config, { migrate: false });
    expect(ferry.walCapture!.state).toBe('lost');
    expect(ferry.walCapture!.running).toBe(false);
    await ferry.stop();

    // The documented recovery: a new slot, then verify --repair for what the old one lost.
    expect(await migrate(db.pool, config)).toMatchObject({ slot: 'recreated' });
    ferry = await startFerry(config);
    cleanup.push(() => ferry.stop());
    const file = writeCliConfig(
      'wal-lost.config.ts',
      { database: { url: db.url }, temporal: config.temporal, capture: { mode: 'wal' } },
      "exampleSubset('users_to_accounts')",
    );
    const repair = await runCli(['verify', '--all', '--repair', '--config', file]);
    expect(repair.code, repair.stderr).toBe(0);
    await waitFor('the missed change carried', async () => (await account(missed)) === 'missed');
    // And capture runs again.
    const [{ id: after }] = (await db.pool.query(`INSERT INTO portal.users (full_name) VALUES ('after') RETURNING id`)).rows;
    await waitFor('carried after recovery', async () => (await account(after)) === 'after');
    expect((await collectStatus(db.pool, config, { maxPendingAgeMs: 60_000, limit: 5 })).slot).toMatchObject({
      walStatus: 'reserved',
      problem: undefined,
    });
  }, 240_000);
});

describe('migrate on a server without logical decoding', () => {
  it('refuses WAL mode with the exact fixes: wal_level, and the REPLICATION right', async () => {
    const { db, config } = await privateDatabase('replica', ['wal_level=replica']);
    const refused = await migrate(db.pool, config).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toContain(
      'wal_level = logical (it is replica): run ALTER SYSTEM SET wal_level = logical; then restart Postgres',
    );
    await db.pool.query(`CREATE ROLE ferry_app LOGIN`);
    const url = new URL(db.url);
    url.username = 'ferry_app';
    const app = new pg.Client({ connectionString: url.toString() });
    await app.connect();
    try {
      expect((await walProblems(app))[1]).toMatch(/needs the REPLICATION right for role ferry_app: run ALTER ROLE "?ferry_app"? WITH REPLICATION;/);
    } finally {
      await app.end();
    }
  }, 120_000);
});
