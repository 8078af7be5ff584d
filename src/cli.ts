#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import {
  batchSizeOf,
  duration,
  positiveInt,
  withBatchSize,
  withGlobalOptions,
  withOutput,
  type BatchSizeFlags,
  type OutputFlags,
  type OutputFormat,
} from './cli/common-options.js';
import { addOperatingCommands } from './cli/operating-commands.js';
import { UsageError } from './cli/usage-error.js';
import type { FerryConfig } from './config.js';
import type { Logger } from './logger.js';
import { packageInfo } from './package-info.js';
import type { RunOptions } from './runtime.js';

// The command line, defined with commander: one .command() per command, its
// options typed and checked as they parse, usage and per-command --help
// generated from the definitions. Every command loads what it needs when it
// runs (dynamic imports): zod, pg, pino and above all the Temporal SDK take
// most of a start-up, so `--help` loads none of them and `status` and `prune`
// never load Temporal's.
//
// Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad config.

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
interface MigrateFlags extends OutputFlags {
  print?: boolean;
}
interface StatusFlags extends OutputFlags {
  maxPendingAge: number;
  limit: number;
  watch?: boolean;
  interval: number;
}
interface PruneFlags extends OutputFlags, BatchSizeFlags {
  olderThan?: number;
  dryRun?: boolean;
}
interface RetryFlags extends OutputFlags {
  failed?: boolean;
  downstreamRejected?: boolean;
  mapping?: string;
  dryRun?: boolean;
}
interface BackfillFlags extends OutputFlags, BatchSizeFlags {
  all?: boolean;
  where?: string;
  detach?: boolean;
  cancel?: boolean;
}
interface VerifyFlags extends OutputFlags, BatchSizeFlags {
  all?: boolean;
  repair?: boolean;
}
interface CodecServerFlags {
  port: number;
  host: string;
  uiOrigin?: string[];
}
interface InitFlags extends OutputFlags {
  from?: string;
  to?: string;
  pair?: string[];
  out?: string;
  force?: boolean;
}

const port =
  (flag: string) =>
  (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) > 65535) throw new UsageError(`${flag}: not a port: "${value}"`);
    return Number(value);
  };
/** An origin as a browser sends it: scheme, host and port, nothing after. */
const origin = (value: string, previous: string[] | undefined): string[] => {
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {}
  if (!parsed || parsed.origin !== value) throw new UsageError(`--ui-origin: not an origin (scheme://host:port, no path): "${value}"`);
  return [...(previous ?? []), value];
};
const UI_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'];
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
      ).argParser(port('--metrics-port')),
    )
    .addOption(new Option('--metrics-host <host>', 'bind /metrics, /livez and /readyz here (default: config metrics.host, 127.0.0.1)'))
    .addOption(
      new Option('--shutdown-grace <duration>', 'on SIGTERM, how long in-flight syncs may finish (default: 10s)').argParser(
        duration('--shutdown-grace'),
      ),
    );
}

/** What a command's action gets to start with: the config, and a logger that writes where its output format needs. */
export type Load = (opts?: { output?: OutputFormat }) => Promise<{ config: FerryConfig; logger: Logger }>;
/** Wraps a command's action so its exit code reaches main. */
export type Run = <A extends unknown[]>(fn: (...args: A) => Promise<number>) => (...args: A) => Promise<void>;

/** The `ferry` program; `done` receives each command's exit code. */
export function ferryProgram(done: (code: number) => void): Command {
  const program = withGlobalOptions(
    new Command('ferry')
      .usage('<command> [options]')
      .description('Durable row sync between Postgres tables, orchestrated by Temporal.')
      .version(packageInfo().version, '-V, --version', 'print the version')
      // Set before the commands are added: each command inherits them.
      .exitOverride()
      .configureOutput({ outputError: (text, write) => write(`ferry: ${text.replace(/^error: /, '')}`) })
      .configureHelp({ showGlobalOptions: true }),
  ).addHelpText(
    'after',
    "\nRun `ferry <command> --help` for a command's options.\nExit codes: 0 success, 1 runtime failure, 2 bad usage or bad config.",
  );

  const load: Load = async (opts = {}) => {
    const [{ loadConfig }, { createLogger }, { logLevel }] = await Promise.all([
      import('./config.js'),
      import('./logger.js'),
      import('./cli/common-options.js'),
    ]);
    const flags = program.opts<GlobalFlags>();
    const level = flags.logLevel ?? (process.env.FERRY_LOG_LEVEL ? logLevel(process.env.FERRY_LOG_LEVEL, 'FERRY_LOG_LEVEL') : 'info');
    const logger = createLogger(level, { to: opts.output === 'json' ? 'stderr' : 'stdout' });
    return { config: await loadConfig(flags.config), logger };
  };
  const run: Run =
    (fn) =>
    async (...args) =>
      done(await fn(...args));

  withOutput(
    program
      .command('migrate')
      .summary('create or upgrade schema ferry, the log table and the triggers; register search attributes')
      .description(
        'Create or upgrade schema ferry, the log table, the trigger functions and the triggers on every mapped source table; ' +
          'register the search attributes in the namespace. Idempotent.',
      )
      .option('--print', 'show the DDL, change nothing'),
  ).action(
    run(async (flags: MigrateFlags) => {
      const { config, logger } = await load(flags);
      if (flags.print) {
        const { printableDdl } = await import('./capture/migrate.js');
        const { emit } = await import('./cli/output.js');
        emit(flags.output, { ddl: printableDdl(config) }, (d) => d.ddl);
        return 0;
      }
      const { migrateCommand } = await import('./commands/migrate.js');
      return migrateCommand(config, logger, flags.output);
    }),
  );

  const serving = {
    start: ['listener and worker in one process', 'The listener and the worker in one process: the normal way to run Ferry.'],
    listen: ['the listener alone (NOTIFY and sweeper to workflows)', 'The listener alone: NOTIFY and the sweeper start workflows.'],
    worker: ['the Temporal worker alone', 'The Temporal worker alone: it carries the rows.'],
  } as const;
  for (const [name, [summary, description]] of Object.entries(serving)) {
    withServingOptions(program.command(name).summary(summary).description(description)).action(
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
    .command('codec-server')
    .summary('serve the payload codec (temporal.codec) to the Temporal Web UI: POST /encode and /decode')
    .description(
      "Temporal's codec server protocol over the config's temporal.codec keys, so the Web UI (its codec endpoint, e.g. " +
        '`temporal server start-dev --ui-codec-endpoint http://127.0.0.1:8888`) and `temporal workflow show --codec-endpoint` ' +
        'show payloads and failure messages decrypted. Only the --ui-origin pages may call it from a browser. ' +
        'Anyone who reaches it can decrypt: keep it on loopback or behind the same access control as the Web UI.',
    )
    .addOption(new Option('--port <n>', 'listen on port N (0 = any free port, logged at start)').default(8888).argParser(port('--port')))
    .addOption(new Option('--host <host>', 'bind here').default('127.0.0.1'))
    .addOption(
      new Option(
        '--ui-origin <origin>',
        `the Web UI's origin, allowed to call it (CORS); repeat for several (default: ${UI_ORIGINS.join(' and ')})`,
      ).argParser(origin),
    )
    .action(
      run(async (flags: CodecServerFlags) => {
        const { config, logger } = await load();
        const { codecServerCommand } = await import('./commands/codec-server.js');
        return codecServerCommand(config, logger, { ...flags, uiOrigin: flags.uiOrigin ?? UI_ORIGINS });
      }),
    );

  withOutput(
    program
      .command('doctor')
      .summary('check Postgres, schema ferry, the triggers against the config, Temporal (TLS/auth, namespace, search attributes), workers')
      .description(
        "One line per check (ok, warn or PROBLEM, with the fix): Postgres and its version, the schema version, each mapping's " +
          'trigger against the config, target keys, Temporal as configured (TLS, API key), the namespace, search attributes, ' +
          'workers polling. Exit 1 on a problem.',
      ),
  ).action(
    run(async (flags: OutputFlags) => {
      const { config } = await load(flags);
      const [{ runDoctor, formatDoctor }, { emit }] = await Promise.all([import('./operate/doctor.js'), import('./cli/output.js')]);
      const report = await runDoctor(config);
      emit(flags.output, report, formatDoctor);
      return report.ok ? 0 : 1;
    }),
  );

  withOutput(
    program
      .command('status')
      .summary('counts per mapping, oldest pending age, waiting and failed logs; exit 1 when unhealthy')
      .description(
        'Counts per mapping (paused ones marked), the oldest pending age, running backfills, and waiting and failed logs with Web UI links. ' +
          'Exits 1 when a log failed or a pending log is older than --max-pending-age (for cron and health checks). ' +
          '--watch redraws the table in place on a terminal until Ctrl-C.',
      )
      .addOption(
        new Option('--max-pending-age <duration>', 'unhealthy when a pending log is older')
          .default(5 * 60_000, '5m')
          .argParser(duration('--max-pending-age')),
      )
      .addOption(new Option('--limit <n>', 'how many waiting and failed logs to list').default(50).argParser(positiveInt('--limit')))
      .option('-w, --watch', 'redraw the report in place until Ctrl-C (a terminal and text output only)')
      .addOption(new Option('--interval <duration>', 'with --watch: how often').default(2000, '2s').argParser(duration('--interval'))),
  ).action(
    run(async (flags: StatusFlags) => {
      if (flags.watch && flags.output === 'json') throw new UsageError('--watch draws text on a terminal: drop -o json');
      const { config } = await load(flags);
      const { statusCommand } = await import('./commands/status.js');
      return statusCommand(config, {
        maxPendingAgeMs: flags.maxPendingAge,
        limit: flags.limit,
        json: flags.output === 'json',
        watchMs: flags.watch ? flags.interval : undefined,
      });
    }),
  );

  withOutput(
    withBatchSize(
      program
        .command('prune')
        .summary('delete synced and skipped logs older than --older-than')
        .description('Delete synced and skipped logs older than the age, in batches. Pending and failed logs are never deleted.')
        .addOption(new Option('--older-than <duration>', 'required: the age, e.g. 7d').argParser(duration('--older-than')))
        .option('--dry-run', 'count what would be deleted, delete nothing'),
      'logs deleted per statement',
    ),
  ).action(
    run(async (flags: PruneFlags) => {
      if (flags.olderThan === undefined) throw new UsageError('prune needs --older-than AGE, e.g. --older-than 7d');
      const batchSize = batchSizeOf(flags);
      const { config, logger } = await load(flags);
      const { pruneCommand } = await import('./commands/prune.js');
      return pruneCommand(config, logger, { olderThanMs: flags.olderThan, batchSize, dryRun: flags.dryRun ?? false, output: flags.output });
    }),
  );

  withOutput(
    program
      .command('replay')
      .summary('one sweep of all pending logs, then exit')
      .description('Start workflows for every pending log once, then exit.'),
  ).action(
    run(async (flags: OutputFlags) => {
      const { config, logger } = await load(flags);
      const { replayCommand } = await import('./commands/replay.js');
      return replayCommand(config, logger, flags.output);
    }),
  );

  withOutput(
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
      .option('--dry-run', 'with --failed: list the logs it would retry, change nothing'),
  ).action(
    run(async (ids: string[], flags: RetryFlags) => {
      if (flags.downstreamRejected) {
        if (ids.length || flags.failed || flags.dryRun) throw new UsageError('--downstream-rejected takes no log ids, no --failed and no --dry-run');
        const { config, logger } = await load(flags);
        const { retryDownstreamCommand } = await import('./commands/retry.js');
        return retryDownstreamCommand(config, logger, flags.mapping, flags.output);
      }
      const target = retryTarget(ids, flags.failed ?? false, flags.mapping);
      if (flags.dryRun && Array.isArray(target)) throw new UsageError('--dry-run goes with --failed');
      const { config, logger } = await load(flags);
      const { retryCommand } = await import('./commands/retry.js');
      return retryCommand(config, logger, target, { dryRun: flags.dryRun ?? false, output: flags.output });
    }),
  );

  withOutput(
    withBatchSize(
      program
        .command('backfill')
        .summary('carry the rows that exist now (resumable, with a progress bar)')
        .description(
          'Carry the rows that exist now: one backfill workflow per mapping, keyset chunks, resumable. ' +
            'Waits with a progress bar unless --detach; --all goes parents first; --cancel stops a running backfill.',
        )
        .argument('[mapping...]', 'the mappings to backfill (or --all)')
        .option('--all', 'every mapping, parents first')
        .option('--where <sql>', 'only the source rows this SQL condition matches'),
      'rows per chunk',
    )
      .option('--detach', 'start the workflows and exit, without waiting')
      .option('--cancel', 'cancel the running backfill instead'),
  ).action(
    run(async (names: string[], flags: BackfillFlags) => {
      const mappings = mappingsArg('backfill', names, flags.all ?? false);
      const batch = batchSizeOf(flags);
      const { config, logger } = await load(flags);
      const { backfillCommand } = await import('./commands/backfill.js');
      return backfillCommand(config, logger, {
        mappings,
        where: flags.where,
        batch,
        detach: flags.detach ?? false,
        cancel: flags.cancel ?? false,
        output: flags.output,
      });
    }),
  );

  withOutput(
    withBatchSize(
      program
        .command('verify')
        .summary('compare transform(source) with the target; exit 1 when anything differs')
        .description(
          'Compare transform(source) with the target; exit 1 when anything differs. --repair carries the differences, then verifies again.',
        )
        .argument('[mapping...]', 'the mappings to verify (or --all)')
        .option('--all', 'every mapping')
        .option('--repair', 'carry the differences through a backfill, then verify again'),
      'rows read per query',
    ),
  ).action(
    run(async (names: string[], flags: VerifyFlags) => {
      const mappings = mappingsArg('verify', names, flags.all ?? false);
      const batch = batchSizeOf(flags);
      const { config, logger } = await load(flags);
      const { verifyCommand } = await import('./commands/verify.js');
      return verifyCommand(config, logger, { mappings, repair: flags.repair ?? false, json: flags.output === 'json', batch });
    }),
  );

  withOutput(
    program
      .command('init')
      .summary("write a starter config from the database's own schema")
      .description(
        "Write a starter config from the database's own schema: tables paired by name, by Heroku Connect External ID columns " +
          '(portal_user_id__c pairs portal.users) or by --pair. The database is the one --config names, else DATABASE_URL. ' +
          'Writes --out, else the --config path, else ferry.config.ts.',
      )
      .option('--from <schema>', 'required: the source schema')
      .option('--to <schema>', 'required: the target schema')
      .option('--pair <source=target>', 'pair two tables whose names differ (repeatable)', collect)
      .option('--out <file>', 'the file to write (default: the --config path, else ferry.config.ts)')
      .option('--force', 'overwrite the file when it exists'),
  ).action(
    run(async (flags: InitFlags) => {
      if (!flags.from || !flags.to) throw new UsageError('init needs --from SCHEMA and --to SCHEMA, e.g. --from portal --to salesforce');
      const { initCommand, initTarget } = await import('./commands/init.js');
      const target = await initTarget(program.opts<GlobalFlags>().config, flags.out);
      return initCommand({ ...target, from: flags.from, to: flags.to, pairs: flags.pair ?? [], force: flags.force ?? false, output: flags.output });
    }),
  );

  addOperatingCommands(program, load, run);
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
    // commander printed its message (or the help, or the version) already.
    if (err.code === 'commander.unknownCommand') {
      process.stderr.write('\n');
      program.outputHelp({ error: true });
    }
    return err.exitCode === 0 ? 0 : 2;
  }
  return code;
}

// scripts/docs-cli.ts imports this module for ferryProgram alone: it sets FERRY_CLI_DEFINE_ONLY.
if (!process.env.FERRY_CLI_DEFINE_ONLY)
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
