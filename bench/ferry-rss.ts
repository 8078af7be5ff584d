// The memory of Ferry as an operator runs it: a `ferry start` process of its
// own (compiled CLI, listener and worker), not the bench's process (which
// also holds the bench's clients and tsx). Its RSS is sampled from /proc
// every 100 ms through a burst and a backfill of existing rows. Mark: ≤ 300 MiB.
import { spawn } from 'node:child_process';
import { FERRY, startCliStack } from './cli-stack.js';
import { lastLogId, waitSettled } from './logs.js';
import { rssOf } from './rss-of.js';

export const RSS_MARK = 300 * 2 ** 20;

export interface FerryRss {
  idle: number;
  burst: number;
  backfill: number;
  burstPerSec: number;
  backfillPerSec: number;
}

function ferry(args: string[]): Promise<number | null> {
  const child = spawn(process.execPath, [FERRY, ...args], { stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', resolve));
}

/** Peak RSS of a `ferry start` idle, through a `burst`-row burst and a `backfill`-row backfill. */
export async function measureFerryRss(burst: number, backfill: number): Promise<FerryRss> {
  // BENCH_TRANSFORMS=inline: transforms in the worker's thread (default: in threads, as `ferry start` runs them).
  const transforms = process.env.BENCH_TRANSFORMS ? { transforms: { isolation: process.env.BENCH_TRANSFORMS } } : {};
  const { db, config, close } = await startCliStack('rss', { metrics: false, ...transforms });
  // Migrated first: `start` refuses to run on triggers that do not match the config.
  if ((await ferry(['migrate', '--config', config])) !== 0) throw new Error('ferry migrate failed');
  const start = spawn(process.execPath, [FERRY, 'start', '--config', config], { stdio: 'ignore' });
  const exited = new Promise((resolve) => start.once('exit', resolve));
  const samples: { phase: string; rss: number }[] = [];
  let phase = 'start-up';
  const timer = setInterval(() => samples.push({ phase, rss: rssOf(start.pid!) }), 100);
  const peak = (p: string) => Math.max(0, ...samples.filter((s) => s.phase === p).map((s) => s.rss));
  try {
    // Started, polling, idle: one change carried.
    const warm = await lastLogId(db.pool);
    await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('warm@example.com', 'Warm')`);
    await waitSettled(db.pool, warm, 1, 120_000);
    phase = 'idle';
    await new Promise((r) => setTimeout(r, 2000));

    phase = 'burst';
    const t0 = performance.now();
    const before = await lastLogId(db.pool);
    await db.pool.query(
      `INSERT INTO portal.users (email, full_name) SELECT 'r' || i || '@example.com', 'RSS ' || i FROM generate_series(1, $1::int) i`,
      [burst],
    );
    await waitSettled(db.pool, before, burst, 600_000);
    const burstSec = (performance.now() - t0) / 1000;

    phase = 'backfill';
    await db.pool.query(`BEGIN; SET LOCAL session_replication_role = replica;
      INSERT INTO portal.users (email, full_name) SELECT 'e' || i || '@example.com', 'Existing ' || i FROM generate_series(1, ${backfill}) i; COMMIT`);
    const t1 = performance.now();
    if ((await ferry(['backfill', 'users_to_accounts', '--config', config])) !== 0) throw new Error('ferry backfill failed');
    const backfillSec = (performance.now() - t1) / 1000;
    return {
      idle: peak('idle'),
      burst: peak('burst'),
      backfill: peak('backfill'),
      burstPerSec: burst / burstSec,
      backfillPerSec: backfill / backfillSec,
    };
  } finally {
    clearInterval(timer);
    start.kill('SIGTERM');
    await exited;
    await close();
  }
}
