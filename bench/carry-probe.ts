// What the batch carrier costs per 1,000-log chunk of a burst of fresh users,
// with no Temporal and no dispatcher: CPU of this process and of its Postgres
// backends (steady on a loaded machine, unlike wall time), and each statement
// sent: how often, rows returned, time. `npx tsx bench/carry-probe.ts`;
// BENCH_ADMIN_URL (a Postgres on this machine: its backends' CPU is read from
// /proc), PROBE_ROWS (20,000), PROBE_DB (the database it creates and drops),
// PROBE_KEEP=1 keeps it.
import { readFileSync } from 'node:fs';
import { createCarryBatch } from '../activities/carry-batch.js';
import { createPool, logTable, withTransaction } from '../src/db/index.js';
import { benchConfig, createBenchDatabase, migrateBench } from './setup.js';

const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROWS = Number(process.env.PROBE_ROWS ?? 20000);
const CHUNK = 1000;
const db = await createBenchDatabase(ADMIN_URL, process.env.PROBE_DB ?? 'ferry_carry_probe');
try {
  const config = benchConfig(db.url, '127.0.0.1:1');
  await migrateBench(config);
  await db.pool.query(`INSERT INTO portal.users (email, full_name) SELECT 'p' || i || '@x', 'p ' || i FROM generate_series(1, $1::int) i`, [ROWS]);
  await db.pool.query('ANALYZE');
  const pool = createPool(db.url, 2);
  const backends = new Set<number>();
  // CPU seconds of this process and of its pool's Postgres backends (a private, local Postgres): steadier than wall time on a loaded machine.
  const backendCpu = () =>
    [...backends].reduce((sum, pid) => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return sum + (Number(f[11]) + Number(f[12])) / 100;
    }, 0);
  const stats = new Map<string, { n: number; rows: number; ms: number }>();
  const connect = pool.connect.bind(pool);
  (pool as unknown as { connect: unknown }).connect = async () => {
    const client = await connect();
    if ((client as unknown as { probed?: boolean }).probed) return client;
    (client as unknown as { probed?: boolean }).probed = true;
    backends.add((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    const query = client.query.bind(client) as (...a: unknown[]) => Promise<{ rowCount: number | null; rows: unknown[] }>;
    (client as unknown as { query: unknown }).query = async (...a: unknown[]) => {
      const text = typeof a[0] === 'string' ? a[0] : (a[0] as { text: string }).text;
      const t0 = performance.now();
      const r = await query(...a);
      const key = text.replace(/\s+/g, ' ').slice(0, 90);
      const s = stats.get(key) ?? { n: 0, rows: 0, ms: 0 };
      s.n++;
      s.rows += r.rows?.length ?? 0;
      s.ms += performance.now() - t0;
      stats.set(key, s);
      return r;
    };
    return client;
  };
  const carry = createCarryBatch({ pool, config });
  const chunks = Math.floor(ROWS / CHUNK);
  let total = 0;
  await withTransaction(pool, async () => {}); // a backend to measure
  const cpu0 = process.cpuUsage();
  const pg0 = backendCpu();
  for (let i = 0; i < chunks; i++) {
    const claimed = await withTransaction(db.pool, (tx) =>
      logTable.claimBatch(tx, { limit: CHUNK, owner: 1 }, ['users_to_accounts'], (a, b) => `probe-${a}-${b}`),
    );
    if (!claimed) break;
    const t0 = performance.now();
    const r = await carry(claimed.logIds, claimed.workflowId);
    total += performance.now() - t0;
    if (r.leftover.length || r.synced !== CHUNK) throw new Error(`chunk: ${JSON.stringify({ ...r, leftover: r.leftover.length })}`);
  }
  const node = process.cpuUsage(cpu0);
  const pgCpu = backendCpu() - pg0;
  console.log(
    `CPU per chunk: node ${((node.user + node.system) / 1000 / chunks).toFixed(1)} ms, postgres ${((pgCpu * 1000) / chunks).toFixed(1)} ms; ` +
      `${chunks} chunks of ${CHUNK}: carry ${(total / chunks).toFixed(1)} ms per chunk (median not kept), ${(((chunks * CHUNK) / total) * 1000).toFixed(0)} rows/s`,
  );
  console.log('per chunk: statements, rows returned, ms   statement');
  let n = 0;
  for (const [k, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms)) {
    n += s.n;
    console.log(
      `${(s.n / chunks).toFixed(1).padStart(7)} ${(s.rows / chunks).toFixed(0).padStart(6)} ${(s.ms / chunks).toFixed(1).padStart(7)}  ${k}`,
    );
  }
  console.log(`statements per chunk: ${(n / chunks).toFixed(1)}`);
  await pool.end();
} finally {
  if (!process.env.PROBE_KEEP) await db.drop();
  else await db.pool.end();
}
