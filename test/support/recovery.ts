import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { inject } from 'vitest';
import type { Pool } from '../../src/db/index.js';

/** How Ferry came back from one fault, read from the log table's own timestamps. */
export interface Recovery {
  case: string;
  /** Logs not final when the fault struck. */
  backlog: number;
  /** Fault → the first log final after it: Ferry carrying again. */
  resumeMs: number;
  /** Fault → every log captured before the fault final: what was in flight is carried. */
  carriedMs: number;
  /**
   * The longest time, once the broken part is back, with logs pending and
   * none turning final: a claim stranded by a dead process shows here (the
   * restart's own start-up time is backMs, not a stall).
   */
  stallMs: number;
  /** Fault → every log final. */
  drainMs: number;
  /** Logs final after the fault per second of drainMs. */
  rate: number;
}

/**
 * Recovery figures after a fault at `faultAt` (this machine's clock, which
 * Postgres shares). Every log's synced_at says when it became final.
 */
export async function recoveryAfter(pool: Pool, name: string, faultAt: number, backAt = faultAt): Promise<Recovery> {
  const at = new Date(faultAt);
  const { rows } = await pool.query<{ backlog: number; first: number; last: number; before: number; carried: number }>(
    `SELECT count(*) FILTER (WHERE created_at <= $1)::int AS backlog, count(*)::int AS carried,
            extract(epoch FROM min(synced_at) - $1) * 1000 AS first, extract(epoch FROM max(synced_at) - $1) * 1000 AS last,
            extract(epoch FROM max(synced_at) FILTER (WHERE created_at <= $1) - $1) * 1000 AS before
       FROM ferry.database_trigger_log WHERE synced_at > $1`,
    [at],
  );
  // Gaps between consecutive final marks, counted only while some log was
  // pending through the whole gap (a quiet moment with nothing to do is no stall).
  const { rows: stall } = await pool.query<{ ms: number | null }>(
    `WITH marks AS (SELECT $1::timestamptz AS at UNION ALL SELECT synced_at FROM ferry.database_trigger_log WHERE synced_at > $1),
          gaps AS (SELECT at AS since, lead(at) OVER (ORDER BY at) AS until FROM marks)
     SELECT max(extract(epoch FROM until - since) * 1000) AS ms FROM gaps g
      WHERE until IS NOT NULL
        AND EXISTS (SELECT 1 FROM ferry.database_trigger_log l WHERE l.created_at <= g.since AND l.synced_at >= g.until)`,
    [new Date(backAt)],
  );
  const r = rows[0]!;
  const drainMs = Math.max(0, Number(r.last ?? 0));
  return {
    case: name,
    backlog: r.backlog,
    resumeMs: Math.round(Number(r.first ?? 0)),
    carriedMs: Math.round(Math.max(0, Number(r.before ?? 0))),
    stallMs: Math.round(Number(stall[0]?.ms ?? 0)),
    drainMs: Math.round(drainMs),
    rate: drainMs > 0 ? Math.round((r.carried / drainMs) * 10_000) / 10 : 0,
  };
}

/** Prints one case's figures and adds them to the run's report (printed as a table at the end of `npm run chaos`). */
export function report(figures: Recovery | Record<string, unknown>): void {
  console.log(`[chaos] ${JSON.stringify(figures)}`);
  const file = inject('chaosReport');
  if (file) appendFileSync(file, JSON.stringify(figures) + '\n');
}

const s = (ms: unknown) => (typeof ms === 'number' ? `${(ms / 1000).toFixed(1)} s` : '');

/** The report as a Markdown table (docs/failure-modes.md, "Fault tolerance"). */
export function reportTable(file: string): string {
  if (!existsSync(file)) return '';
  const rows = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>);
  const faults = rows.filter((r) => 'stallMs' in r);
  const lines = [
    '| case | backlog at fault | back up | resume | in-flight carried | longest stall | all final | logs/s after fault |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...faults.map(
      (r) => `| ${r.case} | ${r.backlog} | ${s(r.backMs)} | ${s(r.resumeMs)} | ${s(r.carriedMs)} | ${s(r.stallMs)} | ${s(r.drainMs)} | ${r.rate} |`,
    ),
  ];
  const other = rows.filter((r) => !('stallMs' in r));
  if (other.length)
    lines.push(
      '',
      ...other.map(
        (r) =>
          `- ${Object.entries(r)
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ')}`,
      ),
    );
  return lines.join('\n');
}

/** Logs above `afterId` per second, from the first capture to the last final mark (bench's end-to-end figure). */
export async function rateSince(pool: Pool, afterId: number): Promise<{ logs: number; seconds: number; rate: number }> {
  const { rows } = await pool.query<{ logs: number; seconds: number }>(
    `SELECT count(*)::int AS logs, extract(epoch FROM max(synced_at) - min(created_at)) AS seconds
       FROM ferry.database_trigger_log WHERE id > $1`,
    [afterId],
  );
  const { logs, seconds } = rows[0]!;
  return { logs, seconds: Math.round(Number(seconds) * 10) / 10, rate: Math.round((logs / Number(seconds)) * 10) / 10 };
}

/** The newest log id: a phase's logs are those above it. */
export async function lastLogId(pool: Pool): Promise<number> {
  const { rows } = await pool.query(`SELECT coalesce(max(id), 0)::int AS id FROM ferry.database_trigger_log`);
  return rows[0].id;
}
