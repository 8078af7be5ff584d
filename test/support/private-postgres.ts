import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/net.js';
import { startLocalPostgres, type LocalPostgres } from '../../src/local-postgres.js';

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth); the same across restarts. */
  adminUrl: string;
  port: number;
  dataDir: string;
  /** Starts it again on the same port and data (after stop()). */
  start(): Promise<void>;
  /** A clean (fast) shutdown; the data stays for start(). */
  stop(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

/**
 * A cluster of one's own to stop and start (outage tests, chaos): npm's
 * embedded binaries, or `binDir` (e.g. /usr/lib/postgresql/15/bin). Never
 * outlives the process that started it.
 */
export async function privatePostgres(opts: { binDir?: string; port?: number; settings?: string[] } = {}): Promise<PrivatePostgres> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ferry-private-pg-'));
  const port = opts.port ?? (await freePort());
  let running: LocalPostgres | undefined;
  const start = async () => {
    running ??= await startLocalPostgres({ dataDir, port, fast: true, binDir: opts.binDir, settings: opts.settings });
  };
  const stop = async () => {
    await running?.stop();
    running = undefined;
  };
  await start();
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    start,
    stop,
    async destroy() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
