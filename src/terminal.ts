// What a person at a terminal sees from `ferry dev` and `ferry start`: a short
// banner, then one status line redrawn every second under the log lines.
// Piped output stays JSON lines (see logger.ts), with no banner and no status line.
import type { FerryConfig } from './config.js';
import type { Pool } from './db/index.js';
import { failedTotal, pendingTotals } from './db/log-table.js';
import type { FerryEvents } from './events.js';

/** True when output goes to a person: a TTY, and JSON lines were not asked for. */
export function isInteractive(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.FERRY_LOG_JSON;
}

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: { isTTY?: boolean }): boolean {
  return stream.isTTY === true && !process.env.NO_COLOR;
}

let statusLine = '';

/**
 * Where pretty log lines go on a terminal: each line first clears the status
 * line, then the status line is drawn again below it, so the two never mix.
 */
export const terminalStream = {
  write(chunk: string): boolean {
    process.stdout.write(statusLine ? `\r\x1b[K${chunk}${statusLine}` : chunk);
    return true;
  },
};

function drawStatus(text: string): void {
  statusLine = text;
  process.stdout.write(`\r\x1b[K${text}`);
}

export interface BannerInfo {
  config: FerryConfig;
  /** Where the database is, as a person should read it (no password). */
  database: string;
  uiUrl: string;
  metricsUrl?: string;
}

/** The database URL without its password (also one given as ?password=); a URL that does not parse is not shown at all. */
export function displayUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(a database URL that does not parse as one; not shown, it may hold a password)';
  }
  if (u.password) u.password = '***';
  const query = [...u.searchParams].map(([k, v]) => `${encodeURIComponent(k)}=${k.toLowerCase() === 'password' ? '***' : encodeURIComponent(v)}`);
  u.search = '';
  return u.toString() + (query.length ? `?${query.join('&')}` : '');
}

export function bannerText({ config, database, uiUrl, metricsUrl }: BannerInfo): string {
  const ns = config.temporal.namespace;
  const waiting = `${uiUrl}/namespaces/${encodeURIComponent(ns)}/workflows?query=${encodeURIComponent('FerryState = "waiting_parent"')}`;
  return [
    '',
    `  Ferry is running (${config.mappings.length} mapping${config.mappings.length === 1 ? '' : 's'})`,
    `  database         ${database}`,
    `  Temporal         ${config.temporal.address}  namespace ${ns}  task queue ${config.temporal.taskQueue}`,
    `  waiting syncs    ${waiting}`,
    ...(metricsUrl ? [`  metrics          ${metricsUrl}`] : []),
    '  Ctrl-C stops; what is in flight resumes on the next start.',
    '',
  ].join('\n');
}

export interface StatusCounts {
  syncedPerSecond: number;
  pending: number;
  waiting: number;
  failed: number;
}

export function statusText(c: StatusCounts): string {
  return `  synced/s ${c.syncedPerSecond}   pending ${c.pending}   waiting ${c.waiting}   failed ${c.failed}`;
}

/**
 * Prints the banner and keeps the status line current until the returned stop()
 * is called. Synced/s and new failures come from this process' events; pending
 * and waiting from the log table's pending index (cheap); failed starts from one
 * count of the table and follows the events.
 */
export async function startStatusDisplay(info: BannerInfo & { pool: Pool; events: FerryEvents }): Promise<() => void> {
  process.stdout.write(`${bannerText(info)}\n`);
  let synced = 0;
  let failed = await failedTotal(info.pool);
  const onDone = (e: { status: string; already: boolean }) => {
    if (e.already) return;
    if (e.status === 'synced') synced++;
    if (e.status === 'failed') failed++;
  };
  info.events.on('syncDone', onDone);
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return; // a slow database must not pile up queries
    busy = true;
    const perSecond = synced;
    synced = 0;
    try {
      const { pending, waiting } = await pendingTotals(info.pool);
      drawStatus(statusText({ syncedPerSecond: perSecond, pending, waiting, failed }));
    } catch {
      drawStatus(`  synced/s ${perSecond}   (database unreachable: waiting it out)`);
    } finally {
      busy = false;
    }
  }, 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    info.events.off('syncDone', onDone);
    if (statusLine) process.stdout.write('\n');
    statusLine = '';
  };
}
