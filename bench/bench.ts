// npm run bench [-- --n 2000 --burst 200 --pairs 50 --rate 50 --paced 10 --server-db file|memory]
// Ferry end to end against a Temporal dev server and a database of its own;
// prints a table of figures. See README "Benchmark".
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';
import { freePort, startDevServer, type DevServer } from '../src/dev-server.js';
import { START_CONCURRENCY } from '../src/dispatcher.js';
import { createLogger, silentLogger } from '../src/logger.js';
import { runFerry, type FerryProcess } from '../src/runtime.js';
import { WORKFLOWS_PATH } from '../src/worker.js';
import type { FerryConfig } from '../src/config.js';
import { runBackfillBench } from './backfill.js';
import { runBurst } from './burst.js';
import { measureCapture } from './capture.js';
import { quietBundlerLogger, runCeiling } from './ceiling.js';
import { runEndToEnd } from './end-to-end.js';
import { runChildFirstInOneTransaction, runLateParent } from './late-parent.js';
import { benchConfig, createBenchDatabase, migrateBench, type BenchDatabase } from './setup.js';
import { childPids, cpuMeter, mib, ms } from './stats.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: process.env.BENCH_N ?? '2000' },
    burst: { type: 'string', default: '200' },
    pairs: { type: 'string', default: '50' },
    rate: { type: 'string', default: '50' },
    paced: { type: 'string', default: '10' },
    'server-db': { type: 'string', default: 'file' },
    /** Run only one part: `backfill` (backfill and verify of --backfill-rows existing rows). */
    only: { type: 'string' },
    'backfill-rows': { type: 'string', default: '100000' },
  },
});
const N = Number(args.n);
const M = Number(args.burst);
const PAIRS = Number(args.pairs);
const RATE = Number(args.rate);
const PACED_SEC = Number(args.paced);
const ONLY = args.only;
if (ONLY !== undefined && ONLY !== 'backfill') throw new Error(`--only: unknown part "${ONLY}" (known: backfill)`);
const BACKFILL_ROWS = Number(args['backfill-rows']);
const SERVER_DB = args['server-db'] === 'memory' ? 'memory' : 'file';
const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const WATCHDOG_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 15 * 60_000);

const cleanups: (() => Promise<unknown>)[] = [];
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err) => console.error('cleanup:', (err as Error).message));
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanUp().finally(() => process.exit(130)));
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${WATCHDOG_MS / 1000} s, giving up`);
  void cleanUp().finally(() => process.exit(1));
}, WATCHDOG_MS);

const cpuLine = (c: { ferry: number; server: number; machine: number }) =>
  `${c.ferry.toFixed(2)} / ${c.server.toFixed(2)} / ${(c.machine - c.ferry - c.server).toFixed(2)}`;
const log = (msg: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const rows: [string, string, string, string][] = [];
const row = (figure: string, value: string, mark = '', ok?: boolean) => rows.push([figure, value, mark, ok === undefined ? '' : ok ? 'ok' : 'MISS']);

async function main() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-'));
  cleanups.push(async () => rmSync(tmp, { recursive: true, force: true }));

  log(`starting Temporal dev server (SQLite ${SERVER_DB === 'file' ? 'on disk' : 'in memory'})`);
  const server: DevServer = await startDevServer({
    port: await freePort(),
    headless: true,
    ...(SERVER_DB === 'file' ? { dbFilename: path.join(tmp, 'temporal.db') } : {}),
  });
  cleanups.push(() => server.stop());
  const serverPid = childPids().find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('temporal'));

  const db: BenchDatabase = await createBenchDatabase(ADMIN_URL, 'ferry_bench');
  cleanups.push(() => db.drop());
  const config = benchConfig(db.url, server.address);
  await migrateBench(config);

  // Capture overhead, with no Ferry running (its work would be noise here).
  if (!ONLY) log('capture overhead: single-row inserts, mapped vs unmapped, alternating');
  const capture = ONLY ? undefined : await measureCapture(db.url, Math.min(N, 2000));
  await db.pool.query(`TRUNCATE portal.users, bench.users_unmapped, ferry.database_trigger_log RESTART IDENTITY`);

  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
  const bundlePath = path.join(tmp, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  const rssBefore = process.memoryUsage.rss();
  const ferry: FerryProcess = await runFerry({
    config,
    logger: process.env.BENCH_LOG ? createLogger(process.env.BENCH_LOG) : silentLogger,
    listen: true,
    work: true,
    workflowBundle: { codePath: bundlePath },
    shutdownGraceTime: '5s',
  });
  let ferryStopped = false;
  cleanups.push(async () => !ferryStopped && ferry.stop());
  await ferry.workerReady;

  if (ONLY === 'backfill') {
    await backfillRows(db, ferry, config, rssBefore);
    await ferry.stop();
    ferryStopped = true;
    printTable(`backfill rows=${BACKFILL_ROWS}  Temporal dev server SQLite ${SERVER_DB === 'file' ? 'on disk' : 'in memory'}`);
    return;
  }

  log('warm-up: 100 changes');
  await runEndToEnd(db.pool, db.url, { count: 100, clients: 4, tag: 'warm' });

  log(`end to end: ${N} inserts into portal.users as fast as 4 connections go`);
  let cpu = cpuMeter(serverPid);
  const e2e = await runEndToEnd(db.pool, db.url, { count: N, clients: 4, tag: 'e2e' });
  const e2eCpu = cpu();

  // Right after Ferry's run, so both see the same background load; Ferry's
  // worker idles meanwhile (its pollers wait on another task queue).
  log(`ceiling: ${N} empty workflows, ${START_CONCURRENCY} starts in flight`);
  cpu = cpuMeter(serverPid);
  // Worker options as Ferry's worker sets them for workflow tasks (SDK defaults today).
  const ceiling = await runCeiling(server.address, N, START_CONCURRENCY, {});
  const ceilingCpu = cpu();

  log(`paced: ${RATE}/s for ${PACED_SEC} s`);
  const paced = await runEndToEnd(db.pool, db.url, { count: Math.round(RATE * PACED_SEC), clients: 4, rate: RATE, tag: 'paced' });

  log(`burst: ${M} updates to one row`);
  const burst = await runBurst(db.pool, db.url, M);

  log(`late parent: ${PAIRS} pairs`);
  const late = await runLateParent(db.pool, db.url, PAIRS, 1_000_000);
  log(`child first in one transaction: ${PAIRS} pairs`);
  const oneTx = await runChildFirstInOneTransaction(db.pool, db.url, PAIRS, 2_000_000);

  await backfillRows(db, ferry, config, rssBefore);
  await ferry.stop();
  ferryStopped = true;

  row('end to end, backlog of N', `${e2e.eventsPerSec.toFixed(1)} events/s`, '>= 50/s', e2e.eventsPerSec >= 50);
  row('  latency p50 / p95 / p99 (backlog)', `${ms(e2e.p50)} / ${ms(e2e.p95)} / ${ms(e2e.p99)}`, 'queueing: N / rate');
  row('  CPU: Ferry process / Temporal server / rest', cpuLine(e2eCpu), `of ${os.cpus().length} cores`);
  row(`paced ${RATE}/s: latency p50 / p95`, `${ms(paced.p50)} / ${ms(paced.p95)}`);
  row(`paced ${RATE}/s: latency p99`, ms(paced.p99), '<= 2 s', paced.p99 <= 2000);
  row('worker peak RSS (process, sampled)', `${mib(Math.max(e2e.peakRss, paced.peakRss))}`, `before start ${mib(rssBefore)}`);
  row('ceiling: empty workflow, same server', `${ceiling.perSec.toFixed(1)} workflows/s`);
  row('  CPU: bench process / Temporal server / rest', cpuLine(ceilingCpu));
  row('Ferry / ceiling', `${(e2e.eventsPerSec / ceiling.perSec).toFixed(2)}`);
  row('capture: mapped / unmapped insert rate', `${capture!.ratio.toFixed(2)}`, '>= 0.5', capture!.ratio >= 0.5);
  row('  rows/s mapped / unmapped (totals)', `${capture!.mappedPerSec.toFixed(0)} / ${capture!.unmappedPerSec.toFixed(0)}`, `${capture!.rows} each, median of blocks`);
  row(`burst: target writes / ${M} updates`, `${burst.writes} / ${M} = ${burst.ratio.toFixed(3)}`, '< 1', burst.ratio < 1);
  row('  burst converged to the last update', String(burst.converged), '', burst.converged);
  row('late parent: parent capture -> child synced p50 / p95', `${ms(late.p50)} / ${ms(late.p95)}`, `max ${ms(late.max)}`);
  row('child first, one tx: commit -> child synced p50 / p95', `${ms(oneTx.p50)} / ${ms(oneTx.p95)}`, `max ${ms(oneTx.max)}`);

  const statusLine = (s: Record<string, number>) => Object.entries(s).map(([k, v]) => `${k} ${v}`).join(', ');
  printTable(
    `N=${N}  burst=${M}  pairs=${PAIRS}  paced=${RATE}/s x ${PACED_SEC}s  Temporal dev server SQLite ${SERVER_DB === 'file' ? 'on disk' : 'in memory'}\n` +
      `statuses: e2e {${statusLine(e2e.statuses)}} paced {${statusLine(paced.statuses)}} burst {${statusLine(burst.statuses)}} ` +
      `late {${statusLine(late.statuses)}} one-tx {${statusLine(oneTx.statuses)}}`,
  );
}

/** Backfill of BACKFILL_ROWS existing rows, then verify of them: the figures and their marks. */
async function backfillRows(db: BenchDatabase, ferry: FerryProcess, config: FerryConfig, rssBefore: number): Promise<void> {
  log(`backfill: ${BACKFILL_ROWS} existing rows of portal.users, then verify`);
  const b = await runBackfillBench(db.pool, ferry.client!, config, BACKFILL_ROWS);
  row(`backfill of ${BACKFILL_ROWS} existing rows`, `${b.backfillPerSec.toFixed(0)} rows/s`, '>= 2,000 rows/s', b.backfillPerSec >= 2000);
  row('  progress shown (updates while waiting)', String(b.progressUpdates), '> 0', b.progressUpdates > 0);
  row(`verify of ${BACKFILL_ROWS} rows`, `${b.verifyPerSec.toFixed(0)} rows/s`, '>= 5,000 rows/s', b.verifyPerSec >= 5000);
  row('  verify after backfill: equal', String(b.equal), '', b.equal);
  row('  worker peak RSS during backfill', mib(b.peakRss), `<= 300 MiB (before start ${mib(rssBefore)})`, b.peakRss <= 300 * 2 ** 20);
}

function printTable(header: string): void {
  console.log(`\nFerry bench  ${new Date().toISOString()}  ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  console.log(header + '\n');
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), ['figure', 'value', 'mark', ''][i]!.length));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(['figure', 'value', 'mark', '']));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
}

main()
  .then(() => cleanUp())
  .then(() => {
    clearTimeout(watchdog);
    process.exit(0);
  })
  .catch(async (err) => {
    if (!cleaning) console.error('bench failed:', err); // else interrupted: cleanup ended what main was using
    await cleanUp();
    clearTimeout(watchdog);
    process.exit(1);
  });
