import { readFileSync, readdirSync } from 'node:fs';

/** Nearest-rank percentile of a list of numbers (p in 0..100). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function ms(v: number): string {
  return Number.isNaN(v) ? 'n/a' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
}

export function mib(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MiB`;
}

/** Samples this process' RSS until stopped; returns the peak seen. */
export function sampleRss(intervalMs = 50): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far; 0 where /proc is missing. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Pids of this process' direct children (the Temporal dev server is one). */
export function childPids(): number[] {
  const pids: number[] = [];
  try {
    for (const task of readdirSync('/proc/self/task')) {
      const text = readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim();
      if (text) pids.push(...text.split(' ').map(Number));
    }
  } catch {
    /* not Linux */
  }
  return pids;
}

/** CPU seconds the whole machine was busy (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  try {
    const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const n = f.map(Number);
    const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - n[3]! - n[4]!) / TICKS_PER_SECOND; // minus idle and iowait
  } catch {
    return NaN;
  }
}

/**
 * CPU used between start and stop, as cores busy on average: this process,
 * the Temporal server, and the whole machine (the rest is Postgres and
 * whatever else runs: other people's tests are noise).
 */
export function cpuMeter(serverPid: number | undefined) {
  const t0 = performance.now();
  const own0 = process.cpuUsage();
  const srv0 = serverPid ? processCpuSeconds(serverPid) : 0;
  const all0 = machineBusySeconds();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    const own = process.cpuUsage(own0);
    const ownSec = (own.user + own.system) / 1e6;
    const srvSec = serverPid ? processCpuSeconds(serverPid) - srv0 : NaN;
    return { wall, ferry: ownSec / wall, server: srvSec / wall, machine: (machineBusySeconds() - all0) / wall };
  };
}
