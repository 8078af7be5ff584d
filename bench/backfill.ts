// Backfill and verify of rows that exist before Ferry: N users inserted with
// triggers off (no logs), then `backfill` (the workflow, as `ferry backfill`
// runs it) and `verify`, timed, with the process' RSS sampled meanwhile.
import type { Client } from '@temporalio/client';
import { startBackfill, waitForBackfill } from '../src/bulk/backfill-run.js';
import { verifyMapping } from '../src/bulk/verify.js';
import { mappingByName, type FerryConfig } from '../src/config.js';
import type { Pool } from '../src/db/index.js';
import { sampleRss } from './stats.js';

export interface BackfillFigures {
  rows: number;
  backfillPerSec: number;
  /** Progress updates the command would have shown (bar redraws or JSON lines). */
  progressUpdates: number;
  verifyPerSec: number;
  equal: boolean;
  peakRss: number;
}

export async function runBackfillBench(pool: Pool, client: Client, config: FerryConfig, rows: number): Promise<BackfillFigures> {
  const mapping = mappingByName(config, 'users_to_accounts')!;
  // Mapped tables refuse a TRUNCATE unless the transaction says it means it.
  await pool.query(`BEGIN; SET LOCAL ferry.allow_truncate = on; TRUNCATE portal.users, salesforce.account RESTART IDENTITY; COMMIT`);
  const db = await pool.connect();
  try {
    // Existing rows: written with triggers off, so no change is logged.
    await db.query('BEGIN');
    await db.query(`SET LOCAL session_replication_role = replica`);
    await db.query(
      `INSERT INTO portal.users (full_name, email) SELECT 'backfill user ' || i, 'b' || i || '@example.com' FROM generate_series(1, $1::int) i`,
      [rows],
    );
    await db.query('COMMIT');
  } finally {
    db.release();
  }
  await pool.query(`ANALYZE portal.users`);
  const rss = sampleRss();
  let progressUpdates = 0;
  const t0 = performance.now();
  const outcome = await waitForBackfill(await startBackfill(client, config, mapping, { batch: 1000 }), {
    update: () => void progressUpdates++,
    end: () => {},
  });
  const backfillSec = (performance.now() - t0) / 1000;
  const peakRss = rss.stop();
  if (!outcome.ok) throw new Error(`backfill ${outcome.reason}`);
  const t1 = performance.now();
  const report = await verifyMapping(pool, config, mapping, { batch: 1000 });
  const verifySec = (performance.now() - t1) / 1000;
  return {
    rows,
    backfillPerSec: rows / backfillSec,
    progressUpdates,
    verifyPerSec: report.rows / verifySec,
    equal: report.differs + report.missing + report.orphans + report.errors === 0,
    peakRss,
  };
}
