import pg from 'pg';
import type { Pool } from '../src/db/index.js';
import { lastLogId, phaseLogs, waitSettled } from './logs.js';
import { percentile, sampleRss } from './stats.js';

export interface EndToEndResult {
  events: number;
  eventsPerSec: number;
  p50: number;
  p95: number;
  p99: number;
  peakRss: number;
  statuses: Record<string, number>;
}

/**
 * Inserts `count` users as single-row autocommit statements from `clients`
 * connections (an app's traffic), either as fast as they go or paced at
 * `rate` per second, and waits until Ferry has carried every log.
 */
export async function runEndToEnd(
  pool: Pool,
  url: string,
  opts: { count: number; clients: number; rate?: number; tag: string },
): Promise<EndToEndResult> {
  const after = await lastLogId(pool);
  const rss = sampleRss();
  const conns = await Promise.all(
    Array.from({ length: opts.clients }, async () => {
      const c = new pg.Client({ connectionString: url, application_name: 'ferry-bench-app' });
      await c.connect();
      return c;
    }),
  );
  try {
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      conns.map(async (c) => {
        for (let i = next++; i < opts.count; i = next++) {
          if (opts.rate) {
            const due = t0 + (i * 1000) / opts.rate;
            const wait = due - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          }
          await c.query(`INSERT INTO portal.users (email, full_name) VALUES ($1, $2)`, [`${opts.tag}${i}@example.com`, `${opts.tag} ${i}`]);
        }
      }),
    );
  } finally {
    await Promise.all(conns.map((c) => c.end()));
  }
  let peakRss: number;
  try {
    await waitSettled(pool, after, opts.count, 60_000 + opts.count * 100);
  } finally {
    peakRss = rss.stop();
  }
  const logs = await phaseLogs(pool, after, 'users_to_accounts');
  return {
    events: logs.latencies.length,
    eventsPerSec: logs.latencies.length / logs.spanSec,
    p50: percentile(logs.latencies, 50),
    p95: percentile(logs.latencies, 95),
    p99: percentile(logs.latencies, 99),
    peakRss,
    statuses: logs.statuses,
  };
}
