#!/usr/bin/env node
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type FerryConfig } from './config.js';
import { createPool } from './db.js';
import { startDevServer, temporalAnswers, type DevServer } from './dev-server.js';
import { Dispatcher } from './dispatcher.js';
import { FerryEvents } from './events.js';
import { createLogger, type Logger } from './logger.js';
import { ensureDatabase, migrate, printableDdl } from './migrate.js';
import { failedLogIds, retryLog } from './retry.js';
import { runFerry, type FerryProcess } from './runtime.js';
import { connectClient, defaultUiUrl, registerSearchAttributes } from './temporal.js';

const USAGE = `Usage: ferry <command> [--config PATH] [--log-level LEVEL]

Commands:
  migrate [--print]       create/upgrade schema ferry, the log table and the triggers;
                          register search attributes (--print: show the DDL, change nothing)
  start                   listener + worker in one process
  listen                  the listener alone (NOTIFY + sweeper -> workflows)
  worker                  the Temporal worker alone
  dev                     migrate, start a local Temporal dev server if none answers, then start
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
      return serve(await runFerry({ config, logger, listen: command !== 'worker', work: command !== 'listen' }), logger);
    }
    case 'dev':
      return dev(await loadConfig(values.config), logger);
    case 'replay':
      return replay(await loadConfig(values.config), logger);
    case 'retry':
      return retry(await loadConfig(values.config), logger, rest, values.failed ?? false, values.mapping);
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

async function runMigrate(config: FerryConfig, logger: Logger): Promise<number> {
  const pool = createPool(config.database.url, 1);
  try {
    const result = await migrate(pool, config);
    logger.info(result, 'database migrated');
  } finally {
    await pool.end();
  }
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

/** Runs until SIGINT/SIGTERM, then stops cleanly. */
async function serve(proc: FerryProcess, logger: Logger, onStop?: () => Promise<void>): Promise<number> {
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info('stopping: listener first, then in-flight work');
  await proc.stop();
  await onStop?.();
  logger.info('stopped');
  return 0;
}

async function dev(config: FerryConfig, logger: Logger): Promise<number> {
  if (await ensureDatabase(config.database.url)) logger.info({ database: new URL(config.database.url).pathname.slice(1) }, 'database created');
  if (config.dev.setupSql.length) {
    const pool = createPool(config.database.url, 1);
    try {
      for (const file of config.dev.setupSql) await pool.query(readFileSync(file, 'utf8'));
    } finally {
      await pool.end();
    }
  }
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
  const proc = await runFerry({ config, logger, listen: true, work: true });
  await proc.workerReady;
  logger.info({ webUi: `${uiUrl}/namespaces/${config.temporal.namespace}/workflows` }, `Ferry is running. Temporal Web UI: ${uiUrl}`);
  return serve(proc, logger, async () => server?.stop());
}

async function replay(config: FerryConfig, logger: Logger): Promise<number> {
  const pool = createPool(config.database.url, 2);
  const client = await connectClient(config, logger);
  try {
    const dispatcher = new Dispatcher({ pool, client, config, logger, events: new FerryEvents() });
    const count = await dispatcher.drain();
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
