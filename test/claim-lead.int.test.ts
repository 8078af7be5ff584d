// A dispatcher claims a backlog as the workers take it: at most 32 batches
// ahead of them, however long the backlog (claims that wait in Temporal's
// queue longer than listener.redispatchAfter would be handed out again).
// No worker runs here, so nothing is carried and the lead stays full; `drain`
// (`ferry replay`) still dispatches the whole backlog.
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
import { migrate } from '../src/capture/migrate.js';
import { Dispatcher } from '../src/dispatch/dispatcher.js';
import { FerryEvents } from '../src/events.js';
import { silentLogger } from '../src/logger.js';
import { createTestDatabase, testConfig, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
const BATCH = 10;
const LEAD = 32 * BATCH;
let db: TestDatabase;
let config: FerryConfig;
let client: Client;

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  config = testConfig(FILE, db, {
    listener: { sweepInterval: '1s', redispatchAfter: '5m', batchSize: BATCH, batchThreshold: 5 },
    mappings: exampleSubset('users_to_accounts'),
  });
  await migrate(db.pool, config);
  client = new Client({ connection: await Connection.connect({ address: config.temporal.address }), namespace: config.temporal.namespace });
});
afterAll(async () => {
  await client?.connection.close();
  await db?.drop();
});

const claimed = async () =>
  (await db.pool.query(`SELECT count(*)::int AS n FROM ferry.database_trigger_log WHERE status = 'pending' AND dispatched_at IS NOT NULL`)).rows[0]
    .n as number;

it('claims a backlog at most 32 batches ahead of the workers; drain takes all of it', async () => {
  await db.pool.query(
    `INSERT INTO portal.users (email, full_name) SELECT 'l' || g || '@example.com', 'Lead ' || g FROM generate_series(1, $1::int) g`,
    [LEAD * 3],
  );
  const dispatcher = new Dispatcher({ pool: db.pool, client, config, logger: silentLogger, events: new FerryEvents() });
  try {
    dispatcher.kick();
    await waitFor('the lead claimed', async () => (await claimed()) >= LEAD, { timeoutMs: 60_000 });
    // Held, it looks again every 250 ms (and on every kick): for a few of those, none claims past the lead.
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      dispatcher.kick();
      expect(await claimed()).toBe(LEAD);
    }
    const { rows } = await db.pool.query(
      `SELECT count(DISTINCT workflow_id)::int AS batches, count(*) FILTER (WHERE workflow_id NOT LIKE '%-batch-%')::int AS singles
         FROM ferry.database_trigger_log WHERE dispatched_at IS NOT NULL`,
    );
    expect(rows[0]).toEqual({ batches: 32, singles: 0 });
    expect(await dispatcher.drain()).toBe(LEAD * 2);
    expect(await claimed()).toBe(LEAD * 3);
  } finally {
    await dispatcher.close();
  }
});
