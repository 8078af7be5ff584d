#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import type { FerryConfig } from './config.js';
import { parseDuration } from './duration.js';
import type { Logger } from './logger.js';
import type { RunOptions } from './runtime.js';

// The command line, defined with commander: one .command() per command, its
// options typed and checked as they parse, usage and per-command --help
// generated from the definitions. Every command loads what it needs when it
// runs (dynamic imports): zod, pg, pino and above all the Temporal SDK take
// most of a start-up, so `--help` loads none of them and `status` and `prune`
// never load Temporal's.
//
// Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad config.

class UsageError extends Error {
  override name = 'UsageError';
}

/** The options every command takes (before or after the command's name). */
interface GlobalFlags {
  config?: string;
  logLevel?: string;
}
/** start, listen, worker and dev. */
interface ServingFlags {
  metricsPort?: number;
  metricsHost?: string;
  shutdownGrace?: number;
}
interface MigrateFlags {
  print?: boolean;
}
interface StatusFlags {
  json?: boolean;
  maxPendingAge: number;
  limit: number;
}
interface DoctorFlags {
  json?: boolean;
  output?: 'text' | 'json';
}
interface PruneFlags {
  olderThan?: number;
  batchSize: number;
}
interface RetryFlags {
  failed?: boolean;
  downstreamRejected?: boolean;
  mapping?: string;
}
interface BackfillFlags {
  all?: boolean;
  where?: string;
  batch: number;
  detach?: boolean;
  cancel?: boolean;
}
interface VerifyFlags {
  all?: boolean;
  repair?: boolean;
  json?: boolean;
  batch: number;
}
interface InitFlags {
  from?: string;
  to?: string;
  pair?: string[];
  out: string;
  force?: boolean;
}

// Option parsers: a bad value is a UsageError with the flag's name (exit 2), before anything loads.
const duration =
  (flag: string) =>
  (value: string): number => {
    const ms = parseDuration(/^\d+$/.test(value) ? Number(value) : value);
    if (ms === undefined) throw new UsageError(`${flag}: not a duration: "${value}" (e.g. 90s, 5m, 7d)`);
    return ms;
  };
const positiveInt =
  (flag: string) =>
  (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag}: not a positive whole number: "${value}"`);
    return Number(value);
  };
const port = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new UsageError(`--metrics-port: not a port: "${value}"`);
  return Number(value);
};
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function mappingsArg(command: string, names: string[], all: boolean): string[] | 'all' {
  if (all === names.length > 0) throw new UsageError(`${command} takes mapping names or --all`);
  return all ? 'all' : names;
}

function retryTarget(ids: string[], failed: boolean, mapping?: string): number[] | { failed: true; mapping?: string } {
  if (failed === ids.length > 0) throw new UsageError('retry takes log ids, or --failed [--mapping NAME]');
  if (mapping && !failed) throw new UsageError('--mapping goes with --failed');
  if (failed) return { failed, mapping };
  return ids.map((id) => {
    if (!/^\d+$/.test(id)) throw new UsageError(`not a log id: "${id}"`);
    return Number(id);
  });
}

/** The HTTP server and shutdown bound of start/listen/worker/dev, from config and flags. */
function servingOptions(config: FerryConfig, flags: ServingFlags): Pick<RunOptions, 'http' | 'shutdownGraceTime'> {
  const out: Pick<RunOptions, 'http' | 'shutdownGraceTime'> = {};
  const defaults = config.metrics || { port: 9464, host: '127.0.0.1' };
  if (flags.metricsPort !== undefined || flags.metricsHost !== undefined || config.metrics)
    out.http = { port: flags.metricsPort ?? defaults.port, host: flags.metricsHost ?? defaults.host };
  if (flags.shutdownGrace !== undefined) out.shutdownGraceTime = flags.shutdownGrace;
  return out;
}

function withServingOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--metrics-port <n>',
        'serve /metrics, /livez and /readyz on port N (default: config metrics.port, 9464; 0 = any free port, logged at start)',
      ).argParser(port),
    )
    .addOption(new Option('--metrics-host <host>', 'bind /metrics, /livez and /readyz here (default: config metrics.host, 127.0.0.1)'))
    .addOption(
      new Option('--shutdown-grace <duration>', 'on SIGTERM, how long in-flight syncs may finish (default: 10s)').argParser(
        duration('--shutdown-grace'),
      ),
    );
}

/** The `ferry` program; `done` receives each command's exit code. */
function ferryProgram(done: (code: number) => void): Command {
  const program = new Command('ferry')
    .usage('<command> [options]')
    .description('Durable row sync between Postgres tables, orchestrated by Temporal.')
    // Set before the commands are added: each command inherits them.
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`ferry: ${text.replace(/^error: /, '')}`) })
    .configureHelp({ showGlobalOptions: true })
    .option('-c, --config <path>', 'the config module (default: FERRY_CONFIG, else ferry.config.ts, .mjs or .js here)')
    .option('--log-level <level>', 'trace, debug, info, warn, error or silent (default: FERRY_LOG_LEVEL, or info)')
    .addHelpText(
      'after',
      "\nRun `ferry <command> --help` for a command's options.\nExit codes: 0 success, 1 runtime failure, 2 bad usage or bad config.",
    );

  const load = async (): Promise<{ config: FerryConfig; logger: Logger }> => {
    const [{ loadConfig }, { createLogger }] = await Promise.all([import('./config.js'), import('./logger.js')]);
    const flags = program.opts<GlobalFlags>();
    const logger = createLogger(flags.logLevel);
    return { config: await loadConfig(flags.config), logger };
  };
  const run =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> =>
      done(await fn(...args));

  program
    .command('migrate')
    .summary('create/upgrade schema ferry, the log table and the triggers; register search attributes')
    .description(
      'Create or upgrade schema ferry, the log table, the trigger functions and the triggers on every mapped source table; ' +
        'register the search attributes in the namespace. Idempotent.',
    )
    .option('--print', 'show the DDL, change nothing')
    .action(
      run(async (flags: MigrateFlags) => {
        const { config, logger } = await load();
        if (flags.print) {
          const { printableDdl } = await import('./capture/migrate.js');
          process.stdout.write(printableDdl(config));
          return 0;
        }
        const { migrateCommand } = await import('./commands/migrate.js');
        return migrateCommand(config, logger);
      }),
    );

  const serving = {
    start: 'listener + worker in one process',
    listen: 'the listener alone (NOTIFY + sweeper -> workflows)',
    worker: 'the Temporal worker alone',
  } as const;
  for (const [name, description] of Object.entries(serving)) {
    withServingOptions(program.command(name).description(description)).action(
      run(async (flags: ServingFlags) => {
        if (name !== 'listen') (await import('./worker/heap.js')).boundWorkerHeap();
        const { config, logger } = await load();
        if (name !== 'worker') await (await import('./commands/serve.js')).refuseOnDrift(config, logger);
        const [{ runFerry }, { serveUntilSignal, showStatusIfInteractive }] = await Promise.all([
          import('./runtime.js'),
          import('./commands/serve.js'),
        ]);
        const proc = await runFerry({ config, logger, listen: name !== 'worker', work: name !== 'listen', ...servingOptions(config, flags) });
        const stopDisplay = name === 'start' ? await showStatusIfInteractive(proc, config) : undefined;
        return serveUntilSignal(proc, logger, async () => stopDisplay?.());
      }),
    );
  }

  withServingOptions(
    program
      .command('dev')
      .summary('migrate, start a local Temporal dev server if none answers, then start')
      .description(
        'Start a local Temporal dev server with its Web UI (persisted in .ferry/) when none answers, find the database ' +
          '(an embedded Postgres when none answers), create it if missing, run dev.setupSql, migrate, then start.',
      ),
  ).action(
    run(async (flags: ServingFlags) => {
      (await import('./worker/heap.js')).boundWorkerHeap();
      const { config, logger } = await load();
      const { devCommand } = await import('./commands/dev.js');
      return devCommand(config, logger, servingOptions(config, flags));
    }),
  );

  program
    .command('status')
    .summary('counts per mapping, oldest pending age, waiting and failed logs; exit 1 when unhealthy')
    .description(
      'Counts per mapping, the oldest pending age, running backfills, and waiting and failed logs with Web UI links. ' +
        'Exits 1 when a log failed or a pending log is older than --max-pending-age (for cron and health checks).',
    )
    .option('--json', 'the report as JSON')
    .addOption(
      new Option('--max-pending-age <duration>', 'unhealthy when a pending log is older')
        .default(5 * 60_000, '5m')
        .argParser(duration('--max-pending-age')),
    )
    .addOption(new Option('--limit <n>', 'how many waiting and failed logs to list').default(50).argParser(positiveInt('--limit')))
    .action(
      run(async (flags: StatusFlags) => {
        const { config } = await load();
        const { statusCommand } = await import('./commands/status.js');
        return statusCommand(config, { maxPendingAgeMs: flags.maxPendingAge, limit: flags.limit, json: flags.json ?? false });
      }),
    );

  program
    .command('doctor')
    .summary('check Postgres, schema ferry, the triggers against the config, Temporal (TLS/auth, namespace, search attributes), workers')
    .description(
      "One line per check (ok, warn or PROBLEM, with the fix): Postgres and its version, the schema version, each mapping's " +
        'trigger against the config, target keys, Temporal as configured (TLS, API key), the namespace, search attributes, ' +
        'workers polling. Exit 1 on a problem.',
    )
    .option('--json', 'the report as JSON (same as -o json)')
    .addOption(new Option('-o, --output <format>', 'text or json').choices(['text', 'json']))
    .action(
      run(async (flags: DoctorFlags) => {
        const { config } = await load();
        const { runDoctor, formatDoctor } = await import('./operate/doctor.js');
        const report = await runDoctor(config);
        const json = flags.json || flags.output === 'json';
        process.stdout.write(json ? JSON.stringify(report, null, 2) + '\n' : formatDoctor(report));
        return report.ok ? 0 : 1;
      }),
    );

  program
    .command('prune')
    .summary('delete synced and skipped logs older than --older-than')
    .description('Delete synced and skipped logs older than the age, in batches. Pending and failed logs are never deleted.')
    .addOption(new Option('--older-than <duration>', 'required: the age, e.g. 7d').argParser(duration('--older-than')))
    .addOption(new Option('--batch-size <n>', 'logs deleted per statement').default(1000).argParser(positiveInt('--batch-size')))
    .action(
      run(async (flags: PruneFlags) => {
        if (flags.olderThan === undefined) throw new UsageError('prune needs --older-than AGE, e.g. --older-than 7d');
        const { config, logger } = await load();
        const { pruneCommand } = await import('./commands/prune.js');
        return pruneCommand(config, logger, { olderThanMs: flags.olderThan, batchSize: flags.batchSize });
      }),
    );

  program
    .command('replay')
    .description('one sweep of all pending logs, then exit')
    .action(
      run(async () => {
        const { config, logger } = await load();
        const { replayCommand } = await import('./commands/replay.js');
        return replayCommand(config, logger);
      }),
    );

  program
    .command('retry')
    .summary('signal forceRetry to waiting workflows; restart failed logs')
    .description(
      'Signal forceRetry to the workflows of waiting logs; a failed log becomes pending again with a fresh run. ' +
        'Takes log ids, or --failed for every failed log (of one mapping). Exits 1 when an id does not exist. ' +
        '--downstream-rejected: the target rows the far side rejected (target.downstream) are marked pending there, so it sends them again.',
    )
    .argument('[logId...]', 'the logs to retry')
    .option('--failed', 'every failed log')
    .option('--downstream-rejected', 'the target rows the far side rejected (target.downstream): make them pending there again')
    .option('--mapping <name>', "with --failed or --downstream-rejected: only this mapping's")
    .action(
      run(async (ids: string[], flags: RetryFlags) => {
        if (flags.downstreamRejected) {
          if (ids.length || flags.failed) throw new UsageError('--downstream-rejected takes no log ids and no --failed');
          const { config } = await load();
          const { retryDownstreamCommand } = await import('./commands/retry.js');
          return retryDownstreamCommand(config, flags.mapping);
        }
        const target = retryTarget(ids, flags.failed ?? false, flags.mapping);
        const { config, logger } = await load();
        const { retryCommand } = await import('./commands/retry.js');
        return retryCommand(config, logger, target);
      }),
    );

  program
    .command('backfill')
    .summary('carry the rows that exist now (resumable, with a progress bar)')
    .description(
      'Carry the rows that exist now: one backfill workflow per mapping, keyset chunks, resumable. ' +
        'Waits with a progress bar unless --detach; --all goes parents first; --cancel stops a running backfill.',
    )
    .argument('[mapping...]', 'the mappings to backfill (or --all)')
    .option('--all', 'every mapping, parents first')
    .option('--where <sql>', 'only the source rows this SQL condition matches')
    .addOption(new Option('--batch <n>', 'rows per chunk').default(1000).argParser(positiveInt('--batch')))
    .option('--detach', 'start the workflows and exit, without waiting')
    .option('--cancel', 'cancel the running backfill instead')
    .action(
      run(async (names: string[], flags: BackfillFlags) => {
        const mappings = mappingsArg('backfill', names, flags.all ?? false);
        const { config, logger } = await load();
        const { backfillCommand } = await import('./commands/backfill.js');
        return backfillCommand(config, logger, {
          mappings,
          where: flags.where,
          batch: flags.batch,
          detach: flags.detach ?? false,
          cancel: flags.cancel ?? false,
        });
      }),
    );

  program
    .command('verify')
    .summary('compare transform(source) with the target; exit 1 when anything differs')
    .description('Compare transform(source) with the target; exit 1 when anything differs. --repair carries the differences, then verifies again.')
    .argument('[mapping...]', 'the mappings to verify (or --all)')
    .option('--all', 'every mapping')
    .option('--repair', 'carry the differences through a backfill, then verify again')
    .option('--json', 'the report as JSON')
    .addOption(new Option('--batch <n>', 'rows read per query').default(1000).argParser(positiveInt('--batch')))
    .action(
      run(async (names: string[], flags: VerifyFlags) => {
        const mappings = mappingsArg('verify', names, flags.all ?? false);
        const { config, logger } = await load();
        const { verifyCommand } = await import('./commands/verify.js');
        return verifyCommand(config, logger, { mappings, repair: flags.repair ?? false, json: flags.json ?? false, batch: flags.batch });
      }),
    );

  program
    .command('init')
    .summary("write a starter config from the database's own schema")
    .description("Write a starter config from the database's own schema. DATABASE_URL names the database.")
    .option('--from <schema>', 'required: the source schema')
    .option('--to <schema>', 'required: the target schema')
    .option('--pair <source=target>', 'pair two tables whose names differ (repeatable)', collect)
    .option('--out <file>', 'the file to write', 'ferry.config.ts')
    .option('--force', 'overwrite --out when it exists')
    .action(
      run(async (flags: InitFlags) => {
        if (!flags.from || !flags.to) throw new UsageError('init needs --from SCHEMA and --to SCHEMA, e.g. --from portal --to salesforce');
        const databaseUrl = process.env.DATABASE_URL;
        if (!databaseUrl) throw new UsageError('init reads the database that DATABASE_URL names: set it');
        const { initCommand } = await import('./commands/init.js');
        return initCommand({ databaseUrl, from: flags.from, to: flags.to, pairs: flags.pair ?? [], out: flags.out, force: flags.force ?? false });
      }),
    );

  return program;
}

async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = ferryProgram((c) => (code = c));
  if (argv.length === 0) {
    program.outputHelp();
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    // commander printed its message (or the help) already.
    if (err.code === 'commander.unknownCommand') {
      process.stderr.write('\n');
      program.outputHelp({ error: true });
    }
    return err.exitCode === 0 ? 0 : 2;
  }
  return code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    // By name: the classes live in modules this file loads only when needed.
    if (['ConfigError', 'UsageError', 'BulkUsageError'].includes((err as Error).name)) {
      console.error(`ferry: ${err.message}`);
      process.exit(2);
    }
    if (['TemporalCliMissing', 'TemporalAccessError', 'SearchAttributesMissing', 'CaptureDriftError'].includes((err as Error).name)) {
      console.error(err.message);
      process.exit(1);
    }
    console.error(`ferry: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
