// WAL mode's capture on its own (no worker): what migrate sets up, the same
// log rows a trigger writes, commit order, echo suppression, and a replay
// after a crash that doubles nothing.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import { markOwnWrite } from '../activities/upsert.js';
import { migrate } from '../src/capture/migrate.js';
import { WalCapture } from '../src/capture/wal/wal-capture.js';
import { slotName } from '../src/capture/wal/names.js';
import type { FerryConfig } from '../src/config.js';
import { withTransaction } from '../src/db/index.js';
import { FerryEvents } from '../src/events.js';
import { createLogger, silentLogger } from '../src/logger.js';
import { createTestDatabase, testConfig, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
const MAPPINGS = exampleSubset('users_to_accounts', 'accounts_to_users', 'orders_to_orders', 'contacts_to_contacts');

// Every rule of capture in one script: multi-row statements, an UPDATE that
// changes nothing, a key change, a DELETE, numeric and timestamp values, a NULL.
const SCRIPT = `
  INSERT INTO portal.users (id, email, full_name, created_at) VALUES
    (1, 'a@x', 'A', '2026-01-01T10:00:00Z'), (2, 'b@x', 'B', '2026-01-01T10:00:00Z'), (3, NULL, 'C "q"', '2026-01-01T10:00:00Z');
  UPDATE portal.users SET full_name = 'A2' WHERE id = 1;
  UPDATE portal.users SET full_name = full_name WHERE id = 2;
  UPDATE portal.users SET id = 30 WHERE id = 3;
  DELETE FROM portal.users WHERE id = 2;
  INSERT INTO portal.orders (id, user_id, amount, status) VALUES (1, 1, 12.50, 'new'), (2, 1, NULL, 'x,y');
  UPDATE portal.orders SET amount = amount + 1;
  DELETE FROM portal.orders WHERE id = 2;
  INSERT INTO portal.contacts (id, user_id, full_name) VALUES (1, 1, E'multi\\nline \\\\ back');
  UPDATE portal.contacts SET user_id = NULL WHERE id = 1;
`;

const LOG_COLUMNS = `mapping, table_name, op, row_key, old_row, new_row, status, kind`;

async function loggedRows(db: TestDatabase) {
  return (await db.pool.query(`SELECT ${LOG_COLUMNS} FROM ferry.database_trigger_log ORDER BY mapping, id`)).rows;
}

function capture(config: FerryConfig, db: TestDatabase): WalCapture {
  const logger = process.env.FERRY_TEST_LOG ? createLogger(process.env.FERRY_TEST_LOG) : silentLogger;
  const c = new WalCapture({ config, pool: db.pool, logger, events: new FerryEvents(), onLogged: () => {} });
  c.start();
  return c;
}

let trig: TestDatabase;
let wal: TestDatabase;
let walConfig: FerryConfig;

beforeAll(async () => {
  if (!inject('walCapture')) return; // a given Postgres without logical decoding: the cases below are skipped
  trig = await createTestDatabase(FILE, '', { mode: 'trigger' });
  wal = await createTestDatabase(FILE, '', { mode: 'wal' });
  await migrate(trig.pool, testConfig(FILE, trig, { mappings: MAPPINGS }));
  walConfig = testConfig(FILE, wal, { mappings: MAPPINGS });
  await migrate(wal.pool, walConfig);
});

afterAll(async () => {
  await trig?.drop();
  await wal?.drop();
});

describe.skipIf(!inject('walCapture'))('migrate in WAL mode', () => {
  it('puts no capture trigger in place, keeps the TRUNCATE guard, and makes the publication, REPLICA IDENTITY FULL and the slot', async () => {
    const triggers = (
      await wal.pool.query(`SELECT tgname FROM pg_trigger WHERE tgrelid = 'portal.users'::regclass AND NOT tgisinternal ORDER BY 1`)
    ).rows.map((r) => r.tgname);
    expect(triggers).toEqual(['ferry_refuse_truncate']);
    const published = (await wal.pool.query(`SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables ORDER BY 1`)).rows.map((r) => r.t);
    expect(published).toEqual(['portal.contacts', 'portal.orders', 'portal.users', 'salesforce.account']);
    const full = (
      await wal.pool.query(
        `SELECT c.oid::regclass::text AS t FROM pg_class c WHERE relreplident = 'f' AND relnamespace::regnamespace::text IN ('portal', 'salesforce') ORDER BY 1`,
      )
    ).rows.map((r) => r.t);
    expect(full).toEqual(['portal.contacts', 'portal.orders', 'portal.users', 'salesforce.account']); // mapped tables only
    const slot = (
      await wal.pool.query(`SELECT plugin, slot_type, temporary FROM pg_replication_slots WHERE slot_name = $1`, [slotName(walConfig.instance)])
    ).rows[0];
    expect(slot).toEqual({ plugin: 'pgoutput', slot_type: 'logical', temporary: false });
    // Idempotent.
    expect(await migrate(wal.pool, walConfig)).toMatchObject({ applied: [], triggers: [], slot: 'kept' });
  });
});

describe.skipIf(!inject('walCapture'))('the log rows', () => {
  it('are the ones the triggers write, column for column', async () => {
    await trig.pool.query(SCRIPT);
    const expected = await loggedRows(trig);
    expect(expected.length).toBeGreaterThan(10);
    const c = capture(walConfig, wal);
    try {
      await wal.pool.query(SCRIPT);
      const got = await waitFor('the WAL log complete', async () => {
        const rows = await loggedRows(wal);
        return rows.length >= expected.length ? rows : undefined;
      });
      expect(got).toEqual(expected);
      // The position is saved with them.
      const { rows } = await wal.pool.query(`SELECT lsn > '0/0' AS moved FROM ferry.wal_position`);
      expect(rows).toEqual([{ moved: true }]);
    } finally {
      await c.close();
    }
  });

  it('take ids in commit order, also for two transactions that commit in the opposite order to the one they began in', async () => {
    const c = capture(walConfig, wal);
    try {
      const first = await wal.pool.connect();
      const second = await wal.pool.connect();
      try {
        await first.query('BEGIN');
        await first.query(`INSERT INTO portal.users (id, full_name) VALUES (101, 'began first')`);
        await second.query('BEGIN');
        await second.query(`INSERT INTO portal.users (id, full_name) VALUES (102, 'began second')`);
        await second.query('COMMIT');
        await first.query('COMMIT');
      } finally {
        first.release();
        second.release();
      }
      const rows = await waitFor('both logged', async () => {
        const { rows } = await wal.pool.query(
          `SELECT id, row_key FROM ferry.database_trigger_log WHERE row_key IN ('101', '102') AND mapping = 'users_to_accounts' ORDER BY id`,
        );
        return rows.length === 2 ? rows : undefined;
      });
      expect(rows.map((r) => r.row_key)).toEqual(['102', '101']);
    } finally {
      await c.close();
    }
  });

  it("leave out Ferry's own writes for the mappings that would carry them back (no echo)", async () => {
    const c = capture(walConfig, wal);
    try {
      await withTransaction(wal.pool, async (client) => {
        await markOwnWrite(client, ['salesforce.account']);
        await client.query(`INSERT INTO portal.users (id, full_name) VALUES (201, 'from salesforce')`);
      });
      // A marker after it: once its log is in, the echo would be too.
      await wal.pool.query(`INSERT INTO portal.orders (id, amount) VALUES (201, 1)`);
      await waitFor(
        'the marker logged',
        async () =>
          (await wal.pool.query(`SELECT 1 FROM ferry.database_trigger_log WHERE mapping = 'orders_to_orders' AND row_key = '201'`)).rowCount === 1,
      );
      const { rows } = await wal.pool.query(`SELECT mapping FROM ferry.database_trigger_log WHERE row_key = '201' AND table_name = 'portal.users'`);
      expect(rows).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it("capture a write whose ferry.origin message lacks Ferry's seal (any role may emit one)", async () => {
    const c = capture(walConfig, wal);
    try {
      await withTransaction(wal.pool, async (client) => {
        await client.query(`SELECT pg_logical_emit_message(true, 'ferry.origin', 'salesforce.account')`);
        await client.query(`INSERT INTO portal.users (id, full_name) VALUES (211, 'forged, no seal')`);
      });
      await withTransaction(wal.pool, async (client) => {
        const forged = `salesforce.account;${'0'.repeat(64)}`;
        await client.query(`SELECT pg_logical_emit_message(true, 'ferry.origin', $1)`, [forged]);
        await client.query(`INSERT INTO portal.users (id, full_name) VALUES (212, 'forged, wrong seal')`);
      });
      await waitFor(
        'both logged',
        async () =>
          (await wal.pool.query(`SELECT 1 FROM ferry.database_trigger_log WHERE table_name = 'portal.users' AND row_key IN ('211', '212')`))
            .rowCount === 2,
      );
    } finally {
      await c.close();
    }
  });

  it("are written once when the slot sends a transaction again (a crash between the log's commit and the confirmation)", async () => {
    const slot = slotName(walConfig.instance);
    // The slot as it is now, kept aside: put back later, it sends 301 again.
    await wal.pool.query(`SELECT pg_copy_logical_replication_slot($1, 'ferry_test_snapshot')`, [slot]);
    const p0 = (await wal.pool.query(`SELECT lsn::text FROM ferry.wal_position`)).rows[0].lsn;
    await wal.pool.query(`INSERT INTO portal.users (id, full_name) VALUES (301, 'once')`);
    let c = capture(walConfig, wal);
    await waitFor('logged', async () => (await wal.pool.query(`SELECT 1 FROM ferry.database_trigger_log WHERE row_key = '301'`)).rowCount === 1);
    await c.close();
    await waitFor(
      'the slot let go',
      async () => (await wal.pool.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [slot])).rowCount === 1,
    );
    await wal.pool.query(`SELECT pg_drop_replication_slot($1)`, [slot]);
    await wal.pool.query(`SELECT pg_copy_logical_replication_slot('ferry_test_snapshot', $1)`, [slot]);
    await wal.pool.query(`SELECT pg_drop_replication_slot('ferry_test_snapshot')`);
    // And the saved position too, so only the unique (lsn, seq) stands in the way.
    await wal.pool.query(`UPDATE ferry.wal_position SET lsn = $1`, [p0]);
    const before = (await wal.pool.query(`SELECT count(*)::int AS n FROM ferry.database_trigger_log`)).rows[0].n;
    c = capture(walConfig, wal);
    try {
      await wal.pool.query(`INSERT INTO portal.users (id, full_name) VALUES (302, 'after')`);
      await waitFor(
        'the next one logged',
        async () => (await wal.pool.query(`SELECT 1 FROM ferry.database_trigger_log WHERE row_key = '302'`)).rowCount === 1,
      );
      const { rows } = await wal.pool.query(
        `SELECT row_key, count(*)::int AS n FROM ferry.database_trigger_log WHERE row_key IN ('301', '302') AND mapping = 'users_to_accounts' GROUP BY 1 ORDER BY 1`,
      );
      expect(rows).toEqual([
        { row_key: '301', n: 1 },
        { row_key: '302', n: 1 },
      ]);
      expect((await wal.pool.query(`SELECT count(*)::int AS n FROM ferry.database_trigger_log`)).rows[0].n).toBe(before + 1);
    } finally {
      await c.close();
    }
  });
});
