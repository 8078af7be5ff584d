import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../contract/index.js';
import { freePort, portAnswers } from '../net.js';
import { findTemporalCli, TemporalCliMissing } from './cli-lookup.js';

export interface DevServerOptions {
  ip?: string;
  port: number;
  uiPort?: number;
  /** Namespaces to create at start (always includes "default"). */
  namespaces?: string[];
  /** Persist to this SQLite file; in memory when unset. */
  dbFilename?: string;
  headless?: boolean;
  /** The Web UI asks this codec server (`ferry codec-server`) to open payloads. */
  uiCodecEndpoint?: string;
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  stop(): Promise<void>;
  /** kill -9: a crash, for fault tests (a server with dbFilename keeps what it had committed). */
  kill(): Promise<void>;
}

/** True when a Temporal frontend answers at the address. */
export async function temporalAnswers(address: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

/**
 * Starts `temporal server start-dev` with Ferry's search attributes, found as
 * findTemporalCli() says; without a CLI, the SDK downloads one. Throws
 * TemporalCliMissing when that fails too (offline, the host unreachable).
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const address = `${ip}:${opts.port}`;
  const uiUrl = opts.headless ? undefined : `http://${ip}:${opts.uiPort ?? opts.port + 1000}`;
  const cli = findTemporalCli();
  if (!cli) return startWithSdkDownload(opts, address, uiUrl);

  const args = ['server', 'start-dev', '--ip', ip, '--port', String(opts.port), '--log-level', 'warn'];
  args.push('--http-port', String(await freePort()), '--metrics-port', String(await freePort()));
  if (opts.headless) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort ?? opts.port + 1000));
  if (opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  if (opts.dbFilename) {
    // WAL with synchronous=NORMAL: one fsync per checkpoint instead of two per
    // commit. Still safe against a crash of the server process (only a power
    // loss can drop the last commits); 2-4x the workflow rate on disk.
    args.push('--db-filename', opts.dbFilename, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  for (const ns of opts.namespaces ?? []) if (ns !== 'default') args.push('--namespace', ns);
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=${key.type === 'INT' ? 'Int' : 'Keyword'}`);

  // Both streams: the CLI prints some fatal start-up errors (a port in use) on stdout.
  const child: ChildProcess = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const keep = (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Never outlive the process that started it (a test run cut short, Ctrl-C).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal server start-dev exited (${child.exitCode}): ${stderr.trim()}`);
    if (await temporalAnswers(address, 1000)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal server start-dev did not answer at ${address} within 60 s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address,
    uiUrl,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

async function startWithSdkDownload(opts: DevServerOptions, address: string, uiUrl: string | undefined): Promise<DevServer> {
  // Where the SDK downloads from: unreachable (offline, no DNS) means no CLI, said at once.
  if (!(await portAnswers('temporal.download', 443, 3000))) throw new TemporalCliMissing(new Error('temporal.download:443 unreachable'));
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: opts.ip ?? '127.0.0.1',
      port: opts.port,
      ui: !opts.headless,
      uiPort: opts.uiPort ?? opts.port + 1000,
      dbFilename: opts.dbFilename,
      searchAttributes: SEARCH_ATTRIBUTES,
      extraArgs: [
        ...(opts.namespaces ?? []).filter((ns) => ns !== 'default').flatMap((ns) => ['--namespace', ns]),
        ...(opts.dbFilename ? ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'] : []),
        ...(opts.uiCodecEndpoint ? ['--ui-codec-endpoint', opts.uiCodecEndpoint] : []),
      ],
    },
  }).catch((err: unknown) => {
    throw new TemporalCliMissing(err);
  });
  const stop = () => env.teardown();
  return { address, uiUrl, stop, kill: stop };
}
