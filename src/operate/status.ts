import { slotHealth, type SlotHealth } from '../capture/wal/slot-health.js';
import type { WaitLink } from '../contract/index.js';
import { syncLogWorkflowId } from '../contract/names.js';
import type { FerryConfig } from '../config.js';
import { backfillRuns, logTable, type Pool } from '../db/index.js';
import { downstreamStatus, formatDownstream, type DownstreamStatus } from './downstream.js';
import { listPaused } from '../db/paused-mappings.js';
import { webUiLink } from './web-ui.js';

export interface MappingStatus {
  mapping: string;
  pending: number;
  /** Of the pending: waiting for a parent that is not in its target yet. */
  waiting: number;
  synced: number;
  skipped: number;
  failed: number;
  /** Age in seconds of the oldest pending log; null when none is pending. */
  oldestPendingAgeSeconds: number | null;
  syncedLastMinute: number;
  /** `ferry pause`d: changes are captured, none carried; its pending age is no problem. */
  paused: boolean;
}

export interface StuckLog {
  logId: number;
  mapping: string;
  op: string;
  rowKey: string;
  attempts: number;
  ageSeconds: number;
  workflowId: string;
  webUi: string;
  /** waiting_parent: the parent the log waits for, and `chain`: the parent's own wait, and so on up. */
  waitingFor?: { mapping: string; key: string; chain?: WaitLink[] };
  /** failed: why. */
  error?: string;
}

export interface StatusReport {
  healthy: boolean;
  /** The deployment (config `instance`) whose logs these are. */
  instance: string;
  /** Why not healthy, one line each. */
  problems: string[];
  maxPendingAgeSeconds: number;
  mappings: MappingStatus[];
  waiting: StuckLog[];
  failed: StuckLog[];
  /** Backfills counting or running, as their workflows last wrote it (ferry.backfill_runs). */
  backfills: (backfillRuns.BackfillRun & { webUi: string })[];
  /** Mappings with target.downstream: their target rows delivered, pending downstream or rejected by the far side. */
  downstream: DownstreamStatus[];
  /** WAL mode: the replication slot's lag and wal_status. */
  slot?: SlotHealth;
}

export interface StatusOptions {
  /** A pending log older than this makes the report unhealthy. */
  maxPendingAgeMs: number;
  /** Longest list of waiting and of failed logs shown. */
  limit: number;
}

/** `ferry status`: what the log table says about every mapping, and the logs that need a person. */
export async function collectStatus(pool: Pool, config: FerryConfig, opts: StatusOptions): Promise<StatusReport> {
  const counts = await logTable.countsByMapping(pool);
  const byName = new Map(counts.map((r) => [r.mapping, r]));
  // Every configured mapping shows, with zeros when it has no logs; a mapping
  // that left the config but still has logs shows too.
  const paused = new Set((await listPaused(pool)).map((p) => p.mapping));
  const names = [...new Set([...config.mappings.map((m) => m.name), ...byName.keys()])];
  const mappings: MappingStatus[] = names.map((mapping) => {
    const r = byName.get(mapping);
    return {
      mapping,
      pending: r?.pending ?? 0,
      waiting: r?.waiting ?? 0,
      synced: r?.synced ?? 0,
      skipped: r?.skipped ?? 0,
      failed: r?.failed ?? 0,
      oldestPendingAgeSeconds: r?.oldest_pending == null ? null : Math.round(r.oldest_pending),
      syncedLastMinute: r?.synced_last_minute ?? 0,
      paused: paused.has(mapping),
    };
  });

  const list = async (which: 'waiting' | 'failed') =>
    (await logTable.listLogs(pool, which, opts.limit)).map((r): StuckLog => {
      // The workflow that carried the log, as recorded; its own syncLog before any run.
      const workflowId = r.workflow_id ?? syncLogWorkflowId(config.instance, r.id);
      return {
        logId: r.id,
        mapping: r.mapping,
        op: r.op,
        rowKey: r.row_key,
        attempts: r.attempts,
        ageSeconds: Math.round(r.age),
        workflowId,
        webUi: webUiLink(config, workflowId),
        ...(r.waiting_key !== null ? { waitingFor: { mapping: r.waiting_mapping!, key: r.waiting_key } } : {}),
        ...(r.error !== null ? { error: r.error } : {}),
      };
    });
  const waiting = await list('waiting');
  // A parent that waits itself: show how far up the chain goes.
  for (const l of waiting) {
    const further = (await logTable.waitChain(pool, l.waitingFor!.mapping, l.waitingFor!.key)).slice(1);
    if (further.length) l.waitingFor!.chain = further;
  }
  const failed = await list('failed');

  const problems: string[] = [];
  const failedTotal = mappings.reduce((n, m) => n + m.failed, 0);
  if (failedTotal > 0) problems.push(`${failedTotal} failed log(s)`);
  const maxPendingAgeSeconds = opts.maxPendingAgeMs / 1000;
  for (const m of mappings) {
    if (!m.paused && m.oldestPendingAgeSeconds !== null && m.oldestPendingAgeSeconds > maxPendingAgeSeconds)
      problems.push(`${m.mapping}: oldest pending log is ${formatAge(m.oldestPendingAgeSeconds)} old (limit ${formatAge(maxPendingAgeSeconds)})`);
  }
  const downstream = await downstreamStatus(pool, config, opts.limit);
  for (const d of downstream) if (d.rejected > 0) problems.push(`${d.mapping}: ${d.rejected} row(s) rejected downstream`);
  const backfills = (await backfillRuns.running(pool)).map((b) => ({ ...b, webUi: webUiLink(config, b.workflowId) }));
  const slot = config.capture.mode === 'wal' ? await slotHealth(pool, config) : undefined;
  if (slot?.problem) problems.push(slot.problem);
  return {
    healthy: problems.length === 0,
    instance: config.instance,
    problems,
    maxPendingAgeSeconds,
    mappings,
    waiting,
    failed,
    backfills,
    downstream,
    ...(slot ? { slot } : {}),
  };
}

export function formatAge(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds * 10) / 10}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(seconds / 86_400)}d${Math.floor((seconds % 86_400) / 3600)}h`;
}

/** The report as a person reads it in a terminal. */
export function formatStatus(report: StatusReport): string {
  const header = ['MAPPING', 'PENDING', 'WAITING', 'SYNCED', 'SKIPPED', 'FAILED', 'OLDEST PENDING', 'SYNCED/1M'];
  const rows = report.mappings.map((m) => [
    m.paused ? `${m.mapping} (paused)` : m.mapping,
    ...[m.pending, m.waiting, m.synced, m.skipped, m.failed].map(String),
    m.oldestPendingAgeSeconds === null ? '-' : formatAge(m.oldestPendingAgeSeconds),
    String(m.syncedLastMinute),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];

  const totalWaiting = report.mappings.reduce((n, m) => n + m.waiting, 0);
  const totalFailed = report.mappings.reduce((n, m) => n + m.failed, 0);
  if (totalWaiting > 0) {
    out.push('', `Waiting for a parent (${shown(report.waiting.length, totalWaiting)}):`);
    for (const l of report.waiting)
      out.push(
        `  log ${l.logId}  ${l.mapping} ${l.op} key ${l.rowKey}  waits for ${l.waitingFor!.mapping} key ${l.waitingFor!.key}` +
          (l.waitingFor!.chain ?? []).map((c) => `, which waits for ${c.mapping} key ${c.key}`).join('') +
          `  attempts ${l.attempts}  age ${formatAge(l.ageSeconds)}`,
        `    ${l.webUi}`,
      );
  }
  if (totalFailed > 0) {
    out.push('', `Failed (${shown(report.failed.length, totalFailed)}):`);
    for (const l of report.failed)
      out.push(`  log ${l.logId}  ${l.mapping} ${l.op} key ${l.rowKey}  attempts ${l.attempts}  ${l.error ?? ''}`.trimEnd(), `    ${l.webUi}`);
  }
  if (totalWaiting > 0 || totalFailed > 0)
    out.push(
      '',
      `Retry one:  ferry retry <logId>      (same as: temporal workflow signal --workflow-id ${syncLogWorkflowId(report.instance, '<logId>')} --name forceRetry,`,
      '                                      for a waiting log; a failed log needs ferry retry)',
      'Retry all failed:  ferry retry --failed [--mapping NAME]',
    );
  if (report.backfills.length) {
    out.push('', `Backfills running (${report.backfills.length}):`);
    for (const b of report.backfills) {
      const pct = b.rowsTotal > 0 ? ` (${Math.min(100, Math.floor((100 * b.rowsDone) / b.rowsTotal))}%)` : '';
      out.push(
        `  ${b.mapping}  ${b.state}  ${b.rowsDone} of ~${b.rowsTotal} rows${pct}  ${b.rate} rows/s  cursor ${b.cursor ?? '-'}  last progress ${formatAge(b.ageSeconds)} ago`,
        `    ${b.webUi}`,
      );
    }
  }
  out.push(...formatDownstream(report.downstream));
  if (report.slot)
    out.push(
      '',
      `WAL capture: slot ${report.slot.slot}  ${report.slot.exists ? `wal_status ${report.slot.walStatus ?? '-'}  lag ${report.slot.lagBytes ?? '-'} bytes  ${report.slot.active ? 'streaming' : 'not streaming'}` : 'missing'}`,
    );
  out.push('', report.healthy ? 'OK' : `PROBLEM: ${report.problems.join('; ')}`);
  return out.join('\n') + '\n';
}

function shown(listed: number, total: number): string {
  return listed < total ? `${total}, first ${listed} shown` : String(total);
}
