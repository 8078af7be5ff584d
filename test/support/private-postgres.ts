import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/dev-server.js';

const run = promisify(execFile);
const BIN = process.env.FERRY_PG_BIN ?? '/usr/lib/postgresql/15/bin';
// Postgres refuses to run as root: as root, the cluster belongs to this OS user.
const OS_USER = process.env.FERRY_PG_OS_USER ?? 'postgres';

export interface PrivatePostgres {
  /** Superuser URL of the cluster's `postgres` database (trust auth). */
  adminUrl: string;
  port: number;
  /** Stops the cluster (`immediate`: a crash, recovered from WAL at start; `fast`: a clean shutdown) and starts it again. */
  restart(mode?: 'immediate' | 'fast'): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its data directory. */
  destroy(): Promise<void>;
}

/**
 * A Postgres cluster of the test's own (initdb + pg_ctl of the installed
 * PostgreSQL) on a free port, so a test can restart Postgres without touching
 * the shared one. Its data directory is a temp dir, deleted by destroy().
 */
export async function startPrivatePostgres(settings: Record<string, string> = {}): Promise<PrivatePostgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', OS_USER]);
    const { stdout: gid } = await run('id', ['-g', OS_USER]);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const pgRun = (bin: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', OS_USER, '--', path.join(BIN, bin), ...args]) : run(path.join(BIN, bin), args);

  await pgRun('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = Object.entries({ listen_addresses: '127.0.0.1', max_connections: '200', ...settings })
    .map(([k, v]) => `-c ${k}=${v}`)
    .concat(`-p ${port}`, `-k ${dir}`)
    .join(' ');
  const start = async () => void (await pgRun('pg_ctl', ['start', '-D', data, '-w', '-t', '120', '-l', path.join(dir, 'log'), '-o', options]));
  const stop = async (mode: 'immediate' | 'fast' = 'fast') => void (await pgRun('pg_ctl', ['stop', '-D', data, '-w', '-t', '120', '-m', mode]));
  await start();
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop: () => stop('fast'),
    async restart(mode = 'immediate') {
      await stop(mode);
      await start();
    },
    async destroy() {
      await stop('immediate').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
