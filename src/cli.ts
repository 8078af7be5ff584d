#!/usr/bin/env node
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type FerryConfig } from './config.js';
import { createPool } from './db.js';
import { parseDuration } from './duration.js';
import type { DevServer } from './dev-server.js';
import { createLogger, type Logger } from './logger.js';
import { ensureDatabase, migrate, printableDdl } from './migrate.js';
import { pruneLogs } from './prune.js';
import { failedLogIds, retryLog } from './retry.js';
import type { FerryProcess, RunOptions } from './runtime.js';
import { collectStatus, formatStatus } from './status.js';
import { connectClient, defaultUiUrl, registerSearchAttributes } from './temporal.js';

// The worker side (the Temporal SDK's native worker, the bundler) takes
// seconds to load: only the commands that run it import it, so `status`,
// `prune` and `retry` answer fast from cron.
const runtime = () => import('./runtime.js');
const devServer = () => import('./dev-server.js');
const dispatcher = () => import('./dispatcher.js');

const USAGE = `Usage: ferry <command> [--config PATH] [--log-level LEVEL]

Commands:
  migrate [--print]       create/upgrade schema ferry, the log table and the triggers;
                          register search attributes (--print: show the DDL, change nothing)
  start                   listener + worker in one process
  listen                  the listener alone (NOTIFY + sweeper -> workflows)
  worker                  the Temporal worker alone
  dev                     migrate, start a local Temporal dev server if none answers, then start
      --metrics-port N    serve /metrics and /healthz on port N (default: config metrics.port,
                          9464; 0 = any free port, logged at start)
      --shutdown-grace D  on SIGTERM, how long in-flight syncs may finish (default 10s)
  status [--json] [--max-pending-age 5m] [--limit 50]
                          counts per mapping, oldest pending age, waiting and failed logs with
                          Web UI links; exits 1 when a log failed or a pending log is older
                          than --max-pending-age (for cron and health checks)
  prune --older-than 7d [--batch-size 1000]
                          delete synced and skipped logs older than the age, in batches;
                          pending and failed logs are never deleted
  replay                  one sweep of all pending logs, then exit
  retry <logId...>        signal forceRetry to waiting workflows; restart failed logs
  retry --failed [--mapping NAME]
                          the same for every failed log (of one mapping)

Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad config.`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      'log-level': { type: 'string' },
      print: { type: 'boolean' },
      failed: { type: 'boolean' },
      mapping: { type: 'string' },
      json: { type: 'boolean' },
      'max-pending-age': { type: 'string' },
      limit: { type: 'string' },
      'older-than': { type: 'string' },
      'batch-size': { type: 'string' },
      'metrics-port': { type: 'string' },
      'shutdown-grace': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const logger = createLogger(values['log-level']);
  switch (command) {
    case 'migrate': {
      const config = await loadConfig(values.config);
      if (values.print) {
        process.stdout.write(printableDdl(config));
        return 0;
      }
      return runMigrate(config, logger);
    }
    case 'start':
    case 'listen':
    case 'worker': {
      const config = await loadConfig(values.config);
      const serving = servingOptions(config, values);
      const { runFerry } = await runtime();
      return serve(await runFerry({ config, logger, listen: command !== 'worker', work: command !== 'listen', ...serving }), logger);
    }
    case 'dev': {
      const config = await loadConfig(values.config);
      return dev(config, logger, servingOptions(config, values));
    }
    case 'status': {
      const maxPendingAgeMs = durationFlag('--max-pending-age', values['max-pending-age'] ?? '5m');
      const limit = positiveIntFlag('--limit', values.limit ?? '50');
      return status(await loadConfig(values.config), maxPendingAgeMs, limit, values.json ?? false);
    }
    case 'prune': {
      if (!values['older-than']) throw new UsageError('prune needs --older-than AGE, e.g. --older-than 7d');
      const olderThanMs = durationFlag('--older-than', values['older-than']);
      const batchSize = positiveIntFlag('--batch-size', values['batch-size'] ?? '1000');
      return prune(await loadConfig(values.config), logger, olderThanMs, batchSize);
    }
    case 'replay':
      return replay(await loadConfig(values.config), logger);
    case 'retry':
      return retry(await loadConfig(values.config), logger, rest, values.failed ?? false, values.mapping);
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

function durationFlag(flag: string, value: string): number {
  const ms = parseDuration(/^\d+$/.test(value) ? Number(value) : value);
  if (ms === undefined) throw new UsageError(`${flag}: not a duration: "${value}" (e.g. 90s, 5m, 7d)`);
  return ms;
}

function positiveIntFlag(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag}: not a positive whole number: "${value}"`);
  return Number(value);
}

/** The HTTP server and shutdown bound of start/listen/worker/dev, from config and flags. */
function servingOptions(config: FerryConfig, values: { 'metrics-port'?: string; 'shutdown-grace'?: string }): Pick<RunOptions, 'http' | 'shutdownGraceTime'> {
  const out: Pick<RunOptions, 'http' | 'shutdownGraceTime'> = {};
  if (values['metrics-port'] !== undefined) {
    const port = values['metrics-port'];
    if (!/^\d+$/.test(port) || Number(port) > 65535) throw new UsageError(`--metrics-port: not a port: "${port}"`);
    out.http = { port: Number(port), host: config.metrics ? config.metrics.host : '0.0.0.0' };
  } else if (config.metrics) {
    out.http = config.metrics;
  }
  if (values['shutdown-grace'] !== undefined) out.shutdownGraceTime = durationFlag('--shutdown-grace', values['shutdown-grace']);
  return out;
}

async function runMigrate(config: FerryConfig, logger: Logger): Promise<number> {
  const pool = createPool(config.database.url, 1);
  try {
    const result = await migrate(pool, config);
    logger.info(result, 'database migrated');
  } finally {
    await pool.end();
  }
  const { temporalAnswers } = await devServer();
  if (!(await temporalAnswers(config.temporal.address, 5000))) {
    logger.error({ address: config.temporal.address }, 'Temporal unreachable: search attributes not registered; run `ferry migrate` again once it is up');
    return 1;
  }
  const client = await connectClient(config, logger);
  try {
    const added = await registerSearchAttributes(client, config.temporal.namespace);
    logger.info({ namespace: config.temporal.namespace, added }, 'search attributes in place');
  } finally {
    await client.connection.close();
  }
  return 0;
}

/**
 * Runs until SIGINT/SIGTERM, then stops cleanly and exits 0. A second signal
 * while stopping exits 1 at once (an impatient operator, or a supervisor's
 * kill after its own grace period).
 */
async function serve(proc: FerryProcess, logger: Logger, onStop?: () => Promise<void>): Promise<number> {
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const force = (again: string) => {
    logger.error({ signal: again }, 'second signal while stopping: exiting now; unfinished syncs resume on the next start');
    process.exit(1);
  };
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  logger.info({ signal }, 'stopping: listener first, then in-flight work');
  await proc.stop();
  await onStop?.();
  logger.info('stopped');
  return 0;
}

async function dev(config: FerryConfig, logger: Logger, serving: Pick<RunOptions, 'http' | 'shutdownGraceTime'>): Promise<number> {
  if (await ensureDatabase(config.database.url)) logger.info({ database: new URL(config.database.url).pathname.slice(1) }, 'database created');
  if (config.dev.setupSql.length) {
    const pool = createPool(config.database.url, 1);
    try {
      for (const file of config.dev.setupSql) await pool.query(readFileSync(file, 'utf8'));
    } finally {
      await pool.end();
    }
  }
  const { startDevServer, temporalAnswers } = await devServer();
  let server: DevServer | undefined;
  const address = config.temporal.address;
  let uiUrl = config.temporal.uiUrl ?? defaultUiUrl(address);
  if (await temporalAnswers(address)) {
    logger.info({ address }, 'using the Temporal server that answers');
  } else {
    const port = Number(address.split(':')[1] ?? 7233);
    logger.info({ address }, 'no Temporal server answers: starting a local dev server');
    // Persisted under .ferry/, so workflows (and their history in the Web UI) survive a restart.
    mkdirSync('.ferry', { recursive: true });
    server = await startDevServer({ ip: '127.0.0.1', port, namespaces: [config.temporal.namespace], dbFilename: path.resolve('.ferry/temporal-dev.db') });
    uiUrl = server.uiUrl ?? uiUrl;
  }
  const code = await runMigrate(config, logger);
  if (code !== 0) {
    await server?.stop();
    return code;
  }
  const { runFerry } = await runtime();
  const proc = await runFerry({ config, logger, listen: true, work: true, ...serving });
  await proc.workerReady;
  logger.info({ webUi: `${uiUrl}/namespaces/${config.temporal.namespace}/workflows` }, `Ferry is running. Temporal Web UI: ${uiUrl}`);
  return serve(proc, logger, async () => server?.stop());
}

async function status(config: FerryConfig, maxPendingAgeMs: number, limit: number, json: boolean): Promise<number> {
  const pool = createPool(config.database.url, 1);
  try {
    const report = await collectStatus(pool, config, { maxPendingAgeMs, limit });
    process.stdout.write(json ? JSON.stringify(report, null, 2) + '\n' : formatStatus(report));
    return report.healthy ? 0 : 1;
  } finally {
    await pool.end();
  }
}

async function prune(config: FerryConfig, logger: Logger, olderThanMs: number, batchSize: number): Promise<number> {
  const pool = createPool(config.database.url, 1);
  try {
    const deleted = await pruneLogs(pool, { olderThanMs, batchSize }, (n) => logger.debug({ deleted: n }, 'pruned a batch'));
    console.log(`pruned ${deleted} log(s)`);
    return 0;
  } finally {
    await pool.end();
  }
}

async function replay(config: FerryConfig, logger: Logger): Promise<number> {
  const pool = createPool(config.database.url, 2);
  const client = await connectClient(config, logger);
  try {
    const { Dispatcher } = await dispatcher();
    const { FerryEvents } = await import('./events.js');
    const count = await new Dispatcher({ pool, client, config, logger, events: new FerryEvents() }).drain();
    console.log(`dispatched ${count} pending log(s)`);
    return 0;
  } finally {
    await client.connection.close();
    await pool.end();
  }
}

async function retry(config: FerryConfig, logger: Logger, ids: string[], failed: boolean, mapping?: string): Promise<number> {
  if (failed === (ids.length > 0)) throw new UsageError('retry takes log ids, or --failed [--mapping NAME]');
  if (mapping && !failed) throw new UsageError('--mapping goes with --failed');
  const parsed = ids.map((id) => {
    if (!/^\d+$/.test(id)) throw new UsageError(`not a log id: "${id}"`);
    return Number(id);
  });
  const pool = createPool(config.database.url, 2);
  const client = await connectClient(config, logger);
  try {
    const targets = failed ? await failedLogIds(pool, mapping) : parsed;
    if (failed && targets.length === 0) console.log('no failed logs');
    let code = 0;
    for (const id of targets) {
      const outcome = await retryLog(pool, client, config, id);
      if (outcome === 'not_found') {
        console.error(`log ${id}: no such log`);
        code = 1;
      } else console.log(`log ${id}: ${outcome}`);
    }
    return code;
  } finally {
    await client.connection.close();
    await pool.end();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof ConfigError || err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`ferry: ${err.message}`);
      process.exit(2);
    }
    console.error(`ferry: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
