// How a long-running bulk command shows where it is: a bar with rate and ETA
// on a terminal, one JSON object a line otherwise (for logs and scripts).

export interface ProgressView {
  label: string;
  done: number;
  /** Estimated; may be below `done` for a table that grew meanwhile. */
  total: number;
  /** Rows per second. */
  rate: number;
}

const WIDTH = 30;

/** "users_to_accounts [##########----------]  52% 52,000/100,000  2,310 rows/s  ETA 21s" */
export function formatProgress({ label, done, total, rate }: ProgressView): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(fraction * WIDTH);
  const bar = '#'.repeat(filled) + '-'.repeat(WIDTH - filled);
  const eta = rate > 0 && total > done ? `ETA ${formatSeconds((total - done) / rate)}` : '';
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  return `${label} [${bar}] ${String(Math.round(fraction * 100)).padStart(3)}% ${n(done)}/${n(total)}  ${n(rate)} rows/s  ${eta}`.trimEnd();
}

export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Writes progress to a stream: redrawn in place on a terminal, JSON lines elsewhere. */
export function progressWriter(stream: NodeJS.WriteStream = process.stdout) {
  const tty = stream.isTTY === true;
  let drawn = false;
  return {
    update(view: ProgressView, extra: Record<string, unknown> = {}): void {
      if (tty) {
        stream.write(`\r${formatProgress(view).padEnd(stream.columns ? stream.columns - 1 : 100)}`);
        drawn = true;
      } else stream.write(JSON.stringify({ ...extra, ...view }) + '\n');
    },
    /** Ends the line the bar is on (before printing anything else). */
    end(): void {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
