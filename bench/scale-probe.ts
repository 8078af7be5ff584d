// What bench:scale reads inside Postgres: the hot statements' plans, the log's
// index sizes and dead tuples, and one 1,000-log chunk claimed and carried in
// this process (the same functions the dispatcher and a batch worker call).
import { createCarryBatch } from '../activities/carry-batch.js';
import type { FerryConfig } from '../src/config.js';
import { logTable, withTransaction, type Pool } from '../src/db/index.js';
import { plansOf } from '../test/support/plans.js';

const LOG = 'ferry.database_trigger_log';
const CHUNK = 1000;
const OWNER = 1; // the bench's own claims: no dispatcher runs while it probes

export interface LogHealth {
  live: number;
  dead: number;
  /** Each index of the log, by name: its size in bytes. */
  indexes: Record<string, number>;
}

/** Rows live and dead in the log (the statistics collector's counts) and the size of each of its indexes. */
export async function logHealth(pool: Pool): Promise<LogHealth> {
  await pool.query('SELECT pg_stat_force_next_flush()').catch(() => {}); // Postgres 15+: counts of this session now
  const { rows } = await pool.query<{ live: string; dead: string }>(
    `SELECT n_live_tup AS live, n_dead_tup AS dead FROM pg_stat_user_tables WHERE relid = '${LOG}'::regclass`,
  );
  const idx = await pool.query<{ name: string; bytes: string }>(
    `SELECT indexrelid::regclass::text AS name, pg_relation_size(indexrelid) AS bytes FROM pg_index WHERE indrelid = '${LOG}'::regclass`,
  );
  return {
    live: Number(rows[0]?.live ?? 0),
    dead: Number(rows[0]?.dead ?? 0),
    indexes: Object.fromEntries(idx.rows.map((r) => [r.name.replace(/^ferry\.database_trigger_log_?/, '') || 'pkey', Number(r.bytes)])),
  };
}

export function formatHealth(h: LogHealth): string {
  const kib = (b: number) => `${Math.round(b / 1024)} KiB`;
  const idx = Object.entries(h.indexes)
    .map(([n, b]) => `${n} ${kib(b)}`)
    .join(', ');
  return `live ${h.live}, dead ${h.dead}; indexes: ${idx}`;
}

/** EXPLAIN (ANALYZE, BUFFERS) of the dispatcher's claim and a batch claim, rolled back: the logs stay as they were. */
export async function explainClaims(pool: Pool, mapping: string, threshold: number): Promise<string> {
  const claim = await plansOf(pool, (q) => logTable.claim(q, { limit: CHUNK, owner: OWNER, backlogAbove: threshold }));
  const batch = await plansOf(pool, (q) => logTable.claimBatch(q, { limit: CHUNK, owner: OWNER }, [mapping], () => 'x'));
  return `-- claim (singles and the backlog test)\n${claim}\n-- claimBatch (one mapping)\n${batch}`;
}

export interface ChunkTimes {
  claimMs: number;
  carryMs: number;
}

/**
 * Claims one chunk of the oldest pending logs of `mapping` and carries it, as
 * a batch worker would, `times` times; the median of each. The chunk's logs
 * end synced, so each probe takes the next ones.
 */
export async function timeChunks(pool: Pool, config: FerryConfig, mapping: string, times: number): Promise<ChunkTimes> {
  const carry = createCarryBatch({ pool, config });
  const claims: number[] = [];
  const carries: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    const claimed = await withTransaction(pool, (tx) =>
      logTable.claimBatch(tx, { limit: CHUNK, owner: OWNER }, [mapping], (a, b) => `ferry-bench-batch-${a}-${b}`),
    );
    const t1 = performance.now();
    if (!claimed) throw new Error(`no pending logs of ${mapping} to probe`);
    const result = await carry(claimed.logIds, claimed.workflowId);
    if (result.leftover.length) throw new Error(`probe chunk left ${result.leftover.length} log(s) over`);
    claims.push(t1 - t0);
    carries.push(performance.now() - t1);
  }
  return { claimMs: median(claims), carryMs: median(carries) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
