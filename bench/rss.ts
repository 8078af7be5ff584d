// `npm run bench:rss`: the memory of Ferry as an operator runs it, a
// `ferry start` process of its own (compiled CLI, listener and worker), not
// the bench's process (which also holds the bench's clients and tsx): its
// peak RSS, sampled from /proc every 100 ms, through a 20,000-row burst and a
// 100,000-row backfill of existing rows. Mark: ≤ 300 MiB.
// BENCH_RSS_BURST / BENCH_RSS_BACKFILL change the sizes.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { FERRY, startCliStack } from './cli-stack.js';
import { lastLogId, waitSettled } from './logs.js';
import { rssOf } from './rss-of.js';

const BURST = Number(process.env.BENCH_RSS_BURST ?? 20_000);
const BACKFILL = Number(process.env.BENCH_RSS_BACKFILL ?? 100_000);
const MIB = 2 ** 20;

function ferry(args: string[]): Promise<number | null> {
  const child = spawn(process.execPath, [FERRY, ...args], { stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', resolve));
}

const { db, config, close } = await startCliStack('rss', { metrics: false });

const start = spawn(process.execPath, [FERRY, 'start', '--config', config], { stdio: 'ignore' });
const samples: { phase: string; rss: number }[] = [];
let phase = 'start-up';
const timer = setInterval(() => samples.push({ phase, rss: rssOf(start.pid!) }), 100);
const peak = (p: string) => Math.max(0, ...samples.filter((s) => s.phase === p).map((s) => s.rss));
try {
  if ((await ferry(['migrate', '--config', config])) !== 0) throw new Error('ferry migrate failed');
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
    [BURST],
  );
  await waitSettled(db.pool, before, BURST, 600_000);
  const burstSec = (performance.now() - t0) / 1000;

  phase = 'backfill';
  await db.pool.query(`BEGIN; SET LOCAL session_replication_role = replica;
    INSERT INTO portal.users (email, full_name) SELECT 'e' || i || '@example.com', 'Existing ' || i FROM generate_series(1, ${BACKFILL}) i; COMMIT`);
  const t1 = performance.now();
  if ((await ferry(['backfill', 'users_to_accounts', '--config', config])) !== 0) throw new Error('ferry backfill failed');
  const backfillSec = (performance.now() - t1) / 1000;

  const mib = (b: number) => `${(b / MIB).toFixed(0)} MiB`;
  const worst = Math.max(peak('burst'), peak('backfill'));
  console.log(`\nferry start, its own process (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs):`);
  console.log(`  idle after start-up            ${mib(peak('idle'))}`);
  console.log(`  ${BURST}-row burst               ${mib(peak('burst'))}  (${(BURST / burstSec).toFixed(0)} rows/s)`);
  console.log(`  ${BACKFILL}-row backfill           ${mib(peak('backfill'))}  (${(BACKFILL / backfillSec).toFixed(0)} rows/s)`);
  console.log(`  peak                           ${mib(worst)}  mark ≤ 300 MiB: ${worst <= 300 * MIB ? 'met' : 'MISSED'}`);
} finally {
  clearInterval(timer);
  start.kill('SIGTERM');
  await new Promise((r) => start.once('exit', r));
  await close();
}
