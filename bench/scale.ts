// `npm run bench:scale`: does the rate hold as the backlog grows, and does
// the log stay fit after months of changes? A `ferry start` process of its
// own (the compiled CLI) carries, for each size, a burst of new users written
// in 500-row statements, and a mixed backlog; its RSS is sampled throughout,
// and each run prints its timeline in 10 s phases (scale-timeline.ts) and the
// CPU it cost per 1,000 logs, the figure to compare on a loaded machine.
// Inside Postgres, at each size, before Ferry runs: the hot claim statements'
// plans (EXPLAIN ANALYZE, BUFFERS), one 1,000-log chunk claimed and carried in
// this process, index sizes and dead tuples. Then the same chunk on a fresh
// log, among millions of finished logs, and after `ferry prune`.
//
//   BENCH_SCALE_ROWS=20000,200000,1000000  burst sizes (the first is the reference rate)
//   BENCH_SCALE_MIXED=1000000              changes in the mixed backlog (0: skip)
//   BENCH_SCALE_FINISHED=5000000           finished logs for the chunk probe (0: skip)
//   BENCH_SCALE_EXPLAIN=1                  print the plans
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { FERRY, startCliStack } from './cli-stack.js';
import {
  emptyTables,
  insertBurst,
  lastFinishedAt,
  lastId,
  p99Seconds,
  anyPending,
  lateRate,
  seedFinishedLogs,
  singlesCount,
  writeMixed,
} from './scale-load.js';
import { cpuPerThousand, formatTimeline, phasesOf, startSampler } from './scale-timeline.js';
import { explainClaims, formatHealth, logHealth, timeChunks, type ChunkTimes } from './scale-probe.js';
import { benchConfig } from './setup.js';
import { rssOf } from './rss-of.js';
import { createPool } from '../src/db/index.js';

const SIZES = (process.env.BENCH_SCALE_ROWS ?? '20000,200000,1000000').split(',').map(Number);
const MIXED = Number(process.env.BENCH_SCALE_MIXED ?? 1_000_000);
const FINISHED = Number(process.env.BENCH_SCALE_FINISHED ?? 5_000_000);
const EXPLAIN = process.env.BENCH_SCALE_EXPLAIN === '1';
const MAPPING = 'users_to_accounts';
const MIB = 2 ** 20;
/** The writer's connections, named apart from Ferry's so the timeline splits Postgres' CPU between them. */
const WRITER_APP = 'ferry-bench-scale-writer';

interface Carried {
  name: string;
  logs: number;
  seconds: number;
  /** Logs per second between the 60th and 90th percentile of their carry: the rate late in the run. */
  late: number;
  p99: number;
  /** Logs carried one workflow each, not in a batch. */
  singles: number;
  rss: number;
  /** CPU seconds per 1,000 logs: Ferry, its Postgres backends and autovacuum. */
  cpu: number;
}

const stack = await startCliStack('scale', { metrics: false });
const { db } = stack;
const writer = createPool(db.url, 2, WRITER_APP);
const config = benchConfig(db.url, 'localhost:7233'); // the probe carries in this process; Temporal is not asked
const results: Carried[] = [];
const probes: { name: string; times: ChunkTimes }[] = [];
const say = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

function ferry(args: string[], stdio: 'ignore' | 'inherit' = 'ignore'): ChildProcess {
  return spawn(process.execPath, [FERRY, ...args, '--config', stack.config], { stdio });
}

async function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  return new Promise((resolve) => child.once('exit', resolve));
}

/** Runs `ferry start`, lets `write` make `logs` changes, and waits until every log is final. */
async function carry(name: string, write: () => Promise<unknown>): Promise<Carried> {
  const start = ferry(['start']);
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, rssOf(start.pid!))), 200);
  try {
    // Ready when it carries one change.
    const warm = await lastId(db.pool);
    await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('warm@example.com', 'Warm')`);
    await until(async () => (await lastId(db.pool)) > warm && !(await anyPending(db.pool)), 120_000);
    const after = await lastId(db.pool);
    const t0 = performance.now();
    const startedAt = Date.now();
    const cpu = startSampler(db.pool, start.pid!, WRITER_APP);
    const writing = write();
    let written = false;
    void writing.then(() => (written = true));
    let lastLine = 0;
    // The poll asks only whether a log is still pending (one index probe): the
    // timeline is read from the log after the run, so a large backlog costs
    // the bench no more than a small one.
    await until(async () => {
      const t = (performance.now() - t0) / 1000;
      if (t - lastLine >= 20) {
        lastLine = t;
        say(`  ${name}: ${t.toFixed(0)} s, ${(await lastId(db.pool)) - after} logged, RSS ${(rss / MIB).toFixed(0)} MiB`);
      }
      return written && !(await anyPending(db.pool));
    }, 3_600_000);
    await writing;
    const samples = await cpu.stop();
    // The end is when the last log was carried, not when a poll saw it: polls stay few and cheap.
    const seconds = ((await lastFinishedAt(db.pool, after)) - startedAt) / 1000;
    const logs = (await lastId(db.pool)) - after;
    const [p99, singles, late] = [await p99Seconds(db.pool, after), await singlesCount(db.pool, after), await lateRate(db.pool, after)];
    console.log(`\n${name}, per 10 s phase:\n${formatTimeline(await phasesOf(db.pool, after, startedAt), samples, config.worker.batchSlots)}\n`);
    return { name, logs, seconds, late, p99, singles, rss, cpu: cpuPerThousand(samples, logs) };
  } finally {
    clearInterval(sampler);
    start.kill('SIGTERM');
    await exited(start);
  }
}

async function until(done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** Before Ferry runs: `pending` logs waiting, the claim's plans, one chunk claimed and carried, the log's health. */
async function probe(name: string, pending: number): Promise<void> {
  await emptyTables(db.pool);
  await insertBurst(db.pool, pending);
  await db.pool.query('ANALYZE ferry.database_trigger_log');
  if (EXPLAIN) console.log(await explainClaims(db.pool, MAPPING, config.listener.batchThreshold));
  const times = await timeChunks(db.pool, config, MAPPING, 5);
  probes.push({ name, times });
  say(
    `probe ${name}: claim ${times.claimMs.toFixed(1)} ms, carry ${times.carryMs.toFixed(0)} ms per 1,000-log chunk; ${formatHealth(await logHealth(db.pool))}`,
  );
}

try {
  if ((await exited(ferry(['migrate'], 'inherit'))) !== 0) throw new Error('ferry migrate failed');
  // Autovacuum is what keeps the log's hot indexes short (sql/011): say whether it runs.
  const { autovacuum } = (await db.pool.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]!;
  const load = os.loadavg().map((l) => l.toFixed(1));
  say(`Postgres: ${stack.postgres}, autovacuum ${autovacuum}; load average ${load.join(' ')} on ${os.cpus().length} CPUs`);
  for (const n of SIZES) await probe(`${n} pending`, n);
  for (const n of SIZES) {
    await emptyTables(db.pool);
    results.push(await carry(`${n}-row burst`, () => insertBurst(writer, n)));
    say(`  ${formatHealth(await logHealth(db.pool))}`);
  }
  if (MIXED > 0) {
    await emptyTables(db.pool);
    // Rows for the updates to hit, there before Ferry starts (not captured).
    await db.pool.query(`BEGIN; SET LOCAL session_replication_role = replica;
      INSERT INTO portal.users (email, full_name) SELECT 'e' || g || '@example.com', 'Existing ' || g FROM generate_series(1, 100000) g; COMMIT`);
    results.push(await carry(`mixed backlog of ${MIXED} changes`, () => writeMixed(db.url, MIXED, 100_000)));
  }
  if (FINISHED > 0) {
    await probe('fresh log', 10_000);
    await emptyTables(db.pool);
    await seedFinishedLogs(db.pool, FINISHED, 30);
    await insertBurst(db.pool, 10_000);
    const times = await timeChunks(db.pool, config, MAPPING, 5);
    probes.push({ name: `${FINISHED} finished logs`, times });
    say(
      `probe ${FINISHED} finished: claim ${times.claimMs.toFixed(1)} ms, carry ${times.carryMs.toFixed(0)} ms; ${formatHealth(await logHealth(db.pool))}`,
    );
    if ((await exited(ferry(['prune', '--older-than', '7d'], 'inherit'))) !== 0) throw new Error('ferry prune failed');
    const pruned = await timeChunks(db.pool, config, MAPPING, 5);
    probes.push({ name: `${FINISHED} finished logs, pruned`, times: pruned });
    say(`probe after prune: claim ${pruned.claimMs.toFixed(1)} ms, carry ${pruned.carryMs.toFixed(0)} ms; ${formatHealth(await logHealth(db.pool))}`);
  }
  report();
} finally {
  await writer.end();
  await stack.close();
}

function report(): void {
  const ref = results[0]!;
  const refRate = ref.logs / ref.seconds;
  const mark = (ok: boolean) => (ok ? 'met' : 'MISS');
  console.log(`\nbench:scale (load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs at the end)`);
  console.log('| load | logs/s, end to end | × reference | late rate | CPU s per 1,000 logs | p99 | one workflow each | Ferry RSS |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const rate = r.logs / r.seconds;
    const need = r.name.startsWith('mixed') ? 0.7 : r === ref ? 0 : 0.8;
    const ratio = `${(rate / refRate).toFixed(2)}${need ? ` (mark ≥ ${need}: ${mark(rate / refRate >= need)})` : ''}`;
    const late = Number.isNaN(r.late) ? '—' : r.late.toFixed(0);
    const rss = `${(r.rss / MIB).toFixed(0)} MiB${r.rss > 300 * MIB ? ' MISS' : ''}`;
    console.log(`| ${r.name} | ${rate.toFixed(0)} | ${ratio} | ${late} | ${r.cpu.toFixed(3)} | ${r.p99.toFixed(1)} s | ${r.singles} | ${rss} |`);
  }
  if (!probes.length) return;
  console.log('\n| log table | claim per 1,000-log chunk | carry | × fresh |');
  console.log('| --- | --- | --- | --- |');
  const fresh = probes.find((p) => p.name === 'fresh log');
  for (const { name, times } of probes) {
    const total = times.claimMs + times.carryMs;
    const ratio = fresh && name.includes('finished') ? total / (fresh.times.claimMs + fresh.times.carryMs) : NaN;
    const judged = Number.isNaN(ratio) ? '—' : `${ratio.toFixed(2)} (mark ≤ 1.2: ${mark(ratio <= 1.2)})`;
    console.log(`| ${name} | ${times.claimMs.toFixed(1)} ms | ${times.carryMs.toFixed(0)} ms | ${judged} |`);
  }
}
