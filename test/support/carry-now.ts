// Carrying logs by hand, in a set order, with no Ferry running: the tests
// that must see one order every time (Temporal runs workflows in whatever
// order it likes) call the carries themselves, on either lane.
import { afterAll, beforeAll } from 'vitest';
import { createCarry } from '../../activities/carry.js';
import { createCarryBatch } from '../../activities/carry-batch.js';
import { singleRowIO } from '../../activities/carry-io.js';
import { migrate } from '../../src/capture/migrate.js';
import type { BatchResult } from '../../src/contract/index.js';
import type { FerryConfig, FerryConfigInput } from '../../src/config.js';
import { logTable, withTransaction } from '../../src/db/index.js';
import { WalCapture } from '../../src/capture/wal/wal-capture.js';
import { FerryEvents } from '../../src/events.js';
import { silentLogger } from '../../src/logger.js';
import { waitFor } from './wait.js';
import { captured, createTestDatabase, testConfig, type CaptureMode, type Lane, type TestDatabase } from './harness.js';

export interface CarryNowContext {
  db: TestDatabase;
  config: FerryConfig;
  q(sql: string, params?: unknown[]): Promise<any[]>;
}

/** A migrated database of this test file's own with these mappings, for the file's tests; no Ferry runs. */
export function useMigratedDatabase(file: string, mappings: FerryConfigInput['mappings'], mode?: CaptureMode): CarryNowContext {
  const ctx = {
    q: async (sql: string, params: unknown[] = []) => (await ctx.db.pool.query(sql, params)).rows,
  } as CarryNowContext;
  let wal: WalCapture | undefined;
  beforeAll(async () => {
    ctx.db = await createTestDatabase(file, '', { mode });
    ctx.config = testConfig(file, ctx.db, { mappings });
    await migrate(ctx.db.pool, ctx.config);
    // WAL mode: the capture runs (it is not Ferry's carrying), so changes reach the log.
    if (ctx.config.capture.mode === 'wal') {
      wal = new WalCapture({ config: ctx.config, pool: ctx.db.pool, logger: silentLogger, events: new FerryEvents(), onLogged: () => {} });
      wal.start();
      await waitFor('WAL capture streaming', () => wal!.state === 'streaming');
    }
  });
  afterAll(async () => {
    await wal?.close();
    await ctx.db?.drop();
  });
  return ctx;
}

/**
 * Carries these logs now: each in a sync of its own, one after the other, as
 * a syncLog does (single), or all in one chunk, as a batch does (batch; the
 * logs are claimed for `carrier` first). Returns the chunk's result.
 */
export async function carryNow(ctx: CarryNowContext, lane: Lane, logIds: number[], carrier = `test-${lane}`): Promise<BatchResult | undefined> {
  const { db, config } = ctx;
  await captured(db.pool);
  if (lane === 'single') {
    const Carry = createCarry(config);
    for (const id of logIds)
      await withTransaction(db.pool, async (client) => {
        await new Carry(singleRowIO(client, config), (await logTable.findLog(client, id, { lock: true }))!, carrier).run();
      });
    return undefined;
  }
  await ctx.q('UPDATE ferry.database_trigger_log SET workflow_id = $2, dispatched_at = now() WHERE id = ANY($1)', [logIds, carrier]);
  return createCarryBatch({ pool: db.pool, config })(logIds, carrier);
}
