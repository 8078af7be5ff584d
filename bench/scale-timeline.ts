// Where a burst's time goes: a timeline of each run in phases of 10 s, from
// the log itself after the run (logs written, claimed and carried per phase,
// the backlog at its end: nothing polled while Ferry runs) and from a sampler
// of CPU and the log's dead tuples taken every 2 s (a few catalog reads and
// /proc files, cheap at any backlog). Postgres' CPU is split by application
// name: the writer's connections, the rest of 'ferry*' (Ferry's and the
// bench's few polls), and the others (autovacuum, backends that exited).
import { readdirSync, readFileSync } from 'node:fs';
import type { Pool } from '../src/db/index.js';

const LOG = 'ferry.database_trigger_log';
const PHASE_S = 10;
const TICK = 100; // USER_HZ: clock ticks per second in /proc/<pid>/stat, 100 on Linux

interface Sample {
  t: number;
  /** CPU seconds so far: Ferry's process, its Postgres backends, the bench's writer, autovacuum and exited backends. */
  ferry: number;
  pgFerry: number;
  pgWriter: number;
  pgOther: number;
  dead: number;
  autovacuums: number;
  /** Logs claimed and not carried yet (the claimed index, sql/014): how far the dispatcher is ahead of the workers. */
  inFlight: number;
}

/** CPU seconds (user + system) of a process, and of its waited-for children when `children`; 0 once it is gone. */
function cpuOf(pid: number, children = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14-17 of proc(5), counted from the state (field 3) at index 0.
    const own = Number(f[11]) + Number(f[12]);
    return (own + (children ? Number(f[13]) + Number(f[14]) : 0)) / TICK;
  } catch {
    return 0;
  }
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Samples CPU and the log's dead tuples every 2 s until stopped. `writerApp`: the bench writer's application_name. */
export function startSampler(pool: Pool, ferryPid: number, writerApp: string): { stop(): Promise<Sample[]> } {
  const samples: Sample[] = [];
  const t0 = performance.now();
  let postmaster = 0;
  // Each backend's CPU as last read: one that exits keeps its share (Postgres adds it to the postmaster's cutime).
  const backends = new Map<number, { writer: boolean; cpu: number }>();
  let busy: Promise<void> = Promise.resolve();
  const take = async () => {
    try {
      if (!postmaster) {
        const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        postmaster = parentOf(rows[0]!.pid);
      }
      const { rows } = await pool.query<{ pid: number; app: string; dead: string; autovacuums: string }>(
        `SELECT a.pid, coalesce(a.application_name, '') AS app, s.n_dead_tup AS dead, s.autovacuum_count AS autovacuums
           FROM pg_stat_activity a, pg_stat_user_tables s
          WHERE s.relid = '${LOG}'::regclass AND a.datname = current_database() AND a.backend_type = 'client backend'`,
      );
      // Every Postgres process of this server: the postmaster's live children, and its exited ones (cutime).
      const children = readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .map(Number)
        .filter((pid) => {
          try {
            return parentOf(pid) === postmaster;
          } catch {
            return false;
          }
        });
      const all = cpuOf(postmaster, true) + children.reduce((s, pid) => s + cpuOf(pid), 0);
      for (const r of rows) {
        const writer = r.app === writerApp || r.app === 'ferry-bench-scale-mixed';
        if (writer || r.app.startsWith('ferry')) backends.set(r.pid, { writer, cpu: Math.max(backends.get(r.pid)?.cpu ?? 0, cpuOf(r.pid)) });
      }
      const sum = (writer: boolean) => [...backends.values()].filter((b) => b.writer === writer).reduce((s, b) => s + b.cpu, 0);
      const [pgWriter, pgFerry] = [sum(true), sum(false)];
      const { rows: claimed } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${LOG} WHERE status = 'pending' AND dispatched_at IS NOT NULL`,
      );
      samples.push({
        t: (performance.now() - t0) / 1000,
        ferry: cpuOf(ferryPid),
        pgFerry,
        pgWriter,
        pgOther: all - pgFerry - pgWriter,
        dead: Number(rows[0]?.dead ?? 0),
        autovacuums: Number(rows[0]?.autovacuums ?? 0),
        inFlight: claimed[0]!.n,
      });
    } catch {
      // A sample missed (a process gone between two reads) is a gap, not a failure.
    }
  };
  const timer = setInterval(() => (busy = busy.then(take)), 2000);
  busy = take();
  return {
    async stop() {
      clearInterval(timer);
      await busy;
      return samples;
    },
  };
}

interface Phase {
  from: number;
  logged: number;
  claimed: number;
  carried: number;
  backlog: number;
}

/** Logs written, claimed and carried in each 10 s phase since `startedAt` (epoch ms), for logs above `afterId`. */
export async function phasesOf(pool: Pool, afterId: number, startedAt: number): Promise<Phase[]> {
  const { rows } = await pool.query<{ k: number; logged: number; claimed: number; carried: number }>(
    `WITH ev AS (SELECT created_at, dispatched_at, synced_at FROM ${LOG} WHERE id > $1),
          phase (k, what) AS (
            SELECT floor(extract(epoch FROM created_at - to_timestamp($2::float8 / 1000)) / $3)::int, 'logged' FROM ev
            UNION ALL SELECT floor(extract(epoch FROM dispatched_at - to_timestamp($2::float8 / 1000)) / $3)::int, 'claimed' FROM ev
            UNION ALL SELECT floor(extract(epoch FROM synced_at - to_timestamp($2::float8 / 1000)) / $3)::int, 'carried' FROM ev)
     SELECT k, count(*) FILTER (WHERE what = 'logged')::int AS logged, count(*) FILTER (WHERE what = 'claimed')::int AS claimed,
            count(*) FILTER (WHERE what = 'carried')::int AS carried
       FROM phase WHERE k IS NOT NULL GROUP BY k ORDER BY k`,
    [afterId, startedAt, PHASE_S],
  );
  let backlog = 0;
  return rows.map((r) => {
    backlog += r.logged - r.carried;
    return { from: r.k * PHASE_S, logged: r.logged, claimed: r.claimed, carried: r.carried, backlog };
  });
}

/**
 * The timeline as a table: per phase, logs written and carried per second,
 * the backlog, the logs claimed and not carried yet (mean of the samples),
 * a 1,000-log chunk's share of the time (2 batch slots busy: 2 × 10 s /
 * chunks carried), CPU of each party in % of one core, the log's
 * dead tuples and the autovacuums of the log that ended in the phase.
 */
export function formatTimeline(phases: Phase[], samples: Sample[], batchSlots: number): string {
  const lines = [
    '| s | written/s | claimed/s | carried/s | backlog | claimed, not carried | ms per chunk | Ferry CPU | PG for Ferry | PG writer | PG other (autovacuum, exited) | dead tuples | autovacuums |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const p of phases) {
    const a = nearest(samples, p.from);
    const b = nearest(samples, p.from + PHASE_S);
    const dt = a && b && b.t > a.t ? b.t - a.t : NaN;
    const pct = (k: keyof Sample) => (a && b ? `${Math.round((100 * (b[k] - a[k])) / dt)}%` : '—');
    const perChunk = p.carried ? ((batchSlots * PHASE_S * 1000) / (p.carried / 1000)).toFixed(0) : '—';
    lines.push(
      `| ${p.from} | ${p.logged / PHASE_S} | ${p.claimed / PHASE_S} | ${p.carried / PHASE_S} | ${p.backlog} | ${inFlight(samples, p.from)} | ${perChunk} | ${pct('ferry')} | ${pct('pgFerry')} | ${pct('pgWriter')} | ${pct('pgOther')} | ${b?.dead ?? '—'} | ${a && b ? b.autovacuums - a.autovacuums : '—'} |`,
    );
  }
  return lines.join('\n');
}

/** The mean of the in-flight samples within a phase. */
function inFlight(samples: Sample[], from: number): string {
  const within = samples.filter((s) => s.t >= from && s.t < from + PHASE_S);
  return within.length ? String(Math.round(within.reduce((sum, s) => sum + s.inFlight, 0) / within.length)) : '—';
}

function nearest(samples: Sample[], t: number): Sample | undefined {
  let best: Sample | undefined;
  for (const s of samples) if (!best || Math.abs(s.t - t) < Math.abs(best.t - t)) best = s;
  return best;
}

/**
 * CPU seconds per 1,000 logs over the run: Ferry's process, Postgres for it
 * and autovacuum (the writer's and the Temporal server's left out). Unlike a
 * rate, it hardly moves with other work on the machine: compare it across
 * sizes when the machine is loaded.
 */
export function cpuPerThousand(samples: Sample[], logs: number): number {
  const [a, b] = [samples[0], samples[samples.length - 1]];
  if (!a || !b || a === b || !logs) return NaN;
  const total = (s: Sample) => s.ferry + s.pgFerry + s.pgOther;
  return (total(b) - total(a)) / (logs / 1000);
}
