#!/usr/bin/env node
import { parseArgs } from 'node:util';
import type { FerryConfig } from './config.js';
import { parseDuration } from './duration.js';
import type { RunOptions } from './runtime.js';

// Every command loads what it needs when it runs (dynamic imports): zod, pg,
// pino and above all the Temporal SDK take most of a start-up, so `--help`
// loads none of them and `status` and `prune` never load Temporal's.

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
  backfill <mapping...>|--all [--where SQL] [--batch 1000] [--detach] [--cancel]
                          carry the rows that exist now (workflow backfill, keyset chunks,
                          resumable); waits with a progress bar unless --detach; --all goes
                          parents first; --cancel stops a running backfill
  verify <mapping...>|--all [--repair] [--json]
                          compare transform(source) with the target; exit 1 when anything
                          differs; --repair carries the differences, then verifies again
  init --from SCHEMA --to SCHEMA [--pair SOURCE=TARGET ...] [--out FILE] [--force]
                          write a starter config from the database's own schema
                          (DATABASE_URL names the database; --out ferry.config.ts)

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
      all: { type: 'boolean' },
      where: { type: 'string' },
      batch: { type: 'string' },
      detach: { type: 'boolean' },
      cancel: { type: 'boolean' },
      repair: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      from: { type: 'string' },
      to: { type: 'string' },
      pair: { type: 'string', multiple: true },
      out: { type: 'string' },
      force: { type: 'boolean' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const [{ loadConfig }, { createLogger }] = await Promise.all([import('./config.js'), import('./logger.js')]);
  const logger = createLogger(values['log-level']);
  switch (command) {
    case 'migrate': {
      const config = await loadConfig(values.config);
      if (values.print) {
        const { printableDdl } = await import('./migrate.js');
        process.stdout.write(printableDdl(config));
        return 0;
      }
      const { migrateCommand } = await import('./commands/migrate.js');
      return migrateCommand(config, logger);
    }
    case 'start':
    case 'listen':
    case 'worker': {
      const config = await loadConfig(values.config);
      const serving = servingOptions(config, values);
      const [{ runFerry }, { serveUntilSignal, showStatusIfInteractive }] = await Promise.all([import('./runtime.js'), import('./commands/serve.js')]);
      const proc = await runFerry({ config, logger, listen: command !== 'worker', work: command !== 'listen', ...serving });
      const stopDisplay = command === 'start' ? await showStatusIfInteractive(proc, config) : undefined;
      return serveUntilSignal(proc, logger, async () => stopDisplay?.());
    }
    case 'dev': {
      const config = await loadConfig(values.config);
      const { devCommand } = await import('./commands/dev.js');
      return devCommand(config, logger, servingOptions(config, values));
    }
    case 'status': {
      const maxPendingAgeMs = durationFlag('--max-pending-age', values['max-pending-age'] ?? '5m');
      const limit = positiveIntFlag('--limit', values.limit ?? '50');
      const { statusCommand } = await import('./commands/status.js');
      return statusCommand(await loadConfig(values.config), { maxPendingAgeMs, limit, json: values.json ?? false });
    }
    case 'prune': {
      if (!values['older-than']) throw new UsageError('prune needs --older-than AGE, e.g. --older-than 7d');
      const olderThanMs = durationFlag('--older-than', values['older-than']);
      const batchSize = positiveIntFlag('--batch-size', values['batch-size'] ?? '1000');
      const { pruneCommand } = await import('./commands/prune.js');
      return pruneCommand(await loadConfig(values.config), logger, { olderThanMs, batchSize });
    }
    case 'replay': {
      const { replayCommand } = await import('./commands/replay.js');
      return replayCommand(await loadConfig(values.config), logger);
    }
    case 'retry': {
      const { retryCommand } = await import('./commands/retry.js');
      return retryCommand(await loadConfig(values.config), logger, retryTarget(rest, values.failed ?? false, values.mapping));
    }
    case 'backfill': {
      const batch = positiveIntFlag('--batch', values.batch ?? '1000');
      const { backfillCommand } = await import('./commands/backfill.js');
      return backfillCommand(await loadConfig(values.config), logger, {
        mappings: mappingsArg('backfill', rest, values.all ?? false),
        where: values.where,
        batch,
        detach: values.detach ?? false,
        cancel: values.cancel ?? false,
      });
    }
    case 'verify': {
      const { verifyCommand } = await import('./commands/verify.js');
      return verifyCommand(await loadConfig(values.config), logger, {
        mappings: mappingsArg('verify', rest, values.all ?? false),
        repair: values.repair ?? false,
        json: values.json ?? false,
        batch: positiveIntFlag('--batch', values.batch ?? '1000'),
      });
    }
    case 'init': {
      if (!values.from || !values.to) throw new UsageError('init needs --from SCHEMA and --to SCHEMA, e.g. --from portal --to salesforce');
      const databaseUrl = process.env.DATABASE_URL;
      if (!databaseUrl) throw new UsageError('init reads the database that DATABASE_URL names: set it');
      const { initCommand } = await import('./commands/init.js');
      return initCommand({ databaseUrl, from: values.from, to: values.to, pairs: values.pair ?? [], out: values.out ?? 'ferry.config.ts', force: values.force ?? false });
    }
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

function mappingsArg(command: string, names: string[], all: boolean): string[] | 'all' {
  if (all === names.length > 0) throw new UsageError(`${command} takes mapping names or --all`);
  return all ? 'all' : names;
}

function retryTarget(ids: string[], failed: boolean, mapping?: string): number[] | { failed: true; mapping?: string } {
  if (failed === (ids.length > 0)) throw new UsageError('retry takes log ids, or --failed [--mapping NAME]');
  if (mapping && !failed) throw new UsageError('--mapping goes with --failed');
  if (failed) return { failed, mapping };
  return ids.map((id) => {
    if (!/^\d+$/.test(id)) throw new UsageError(`not a log id: "${id}"`);
    return Number(id);
  });
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    // By name: the classes live in modules this file loads only when needed.
    if (['ConfigError', 'UsageError', 'BulkUsageError'].includes((err as Error).name) || err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`ferry: ${err.message}`);
      process.exit(2);
    }
    if ((err as Error).name === 'TemporalCliMissing') {
      console.error(err.message);
      process.exit(1);
    }
    console.error(`ferry: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
