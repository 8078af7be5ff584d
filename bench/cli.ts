// `npm run bench:cli`: how fast the compiled CLI (dist/, as `ferry` runs
// installed) answers, against the marks: `--help` ≤ 0.5 s, `status` ≤ 1 s,
// `start` carrying its first change ≤ 3 s after launch with a Temporal dev
// server already up. The config is a `.ts` file, as a user's would be.
// BENCH_CLI_RUNS=N repeats each (default 5); medians are the figures.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type pg from 'pg';
import { FERRY, startCliStack } from './cli-stack.js';
import { percentile } from './stats.js';

const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 5);

/**
 * CPU seconds of this process' reaped children (cutime + cstime, Linux): on a
 * busy machine the wall time says more about the neighbours than about Ferry.
 */
function childCpuMs(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10; // clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

function run(args: string[], script = FERRY): Promise<{ ms: number; code: number | null }> {
  const started = performance.now();
  const child = spawn(process.execPath, script ? [script, ...args] : args, { stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ ms: performance.now() - started, code })));
}

/** Launches `ferry start`, writes one row at once, and times launch → the row in the target. */
async function startToFirstSync(config: string, pool: pg.Pool, n: number): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [FERRY, 'start', '--config', config], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const { rows } = await pool.query(`INSERT INTO portal.users (email, full_name) VALUES ($1, 'Bench') RETURNING id`, [`cli${n}@example.com`]);
  const deadline = started + 60_000;
  try {
    for (;;) {
      const found = await pool.query('SELECT 1 FROM salesforce.account WHERE portal_user_id__c = $1', [String(rows[0].id)]);
      if (found.rowCount) return performance.now() - started;
      if (performance.now() > deadline) throw new Error('ferry start carried nothing within 60 s');
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const { db, config, postgres, close } = await startCliStack('cli');

type Result = { mark: string; target?: number; times: number[]; cpu: number[] };
const results: Result[] = [
  { mark: 'node -e 0 (this machine, for scale)', times: [], cpu: [] },
  { mark: 'ferry --help', target: 500, times: [], cpu: [] },
  { mark: 'ferry status', target: 1000, times: [], cpu: [] },
  { mark: 'ferry start → first change in target', target: 3000, times: [], cpu: [] },
];
async function measure(r: Result, fn: () => Promise<number>): Promise<void> {
  const cpu = childCpuMs();
  r.times.push(await fn());
  r.cpu.push(childCpuMs() - cpu);
}

try {
  if ((await run(['migrate', '--config', config])).code !== 0) throw new Error('ferry migrate failed');
  for (let i = 0; i < RUNS; i++) {
    await measure(results[0]!, async () => (await run(['-e', '0'], '')).ms);
    await measure(results[1]!, async () => (await run(['--help'])).ms);
    await measure(results[2]!, async () => (await run(['status', '--config', config])).ms);
    await measure(results[3]!, () => startToFirstSync(config, db.pool, i));
  }
  console.log(`\nCLI marks (${RUNS} runs each; ${postgres}; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs)`);
  const fmt = (v: number) => `${(v / 1000).toFixed(2)} s`;
  for (const r of results) {
    const median = percentile(r.times, 50);
    const verdict = r.target === undefined ? '' : `mark ≤ ${fmt(r.target)}: ${median <= r.target ? 'met' : 'MISSED'}`;
    console.log(
      `  ${r.mark.padEnd(40)} median ${fmt(median)}  min ${fmt(Math.min(...r.times))}  max ${fmt(Math.max(...r.times))}  cpu ${fmt(percentile(r.cpu, 50))}  ${verdict}`,
    );
  }
} finally {
  await close();
}
