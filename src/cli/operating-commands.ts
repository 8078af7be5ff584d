// pause, resume, logs and mappings: what an operator does day to day.
import type { Command } from 'commander';
import type { Load, Run } from '../cli.js';
import { withOutput, type OutputFlags } from './common-options.js';
import { UsageError } from './usage-error.js';

interface LogsFlags extends OutputFlags {
  key?: string;
}

/** `--key MAPPING:KEY` (the key may hold colons itself), or a log id. */
function storyTarget(id: string | undefined, key: string | undefined): { logId: number } | { mapping: string; rowKey: string } {
  if ((id === undefined) === (key === undefined)) throw new UsageError('logs takes a log id, or --key MAPPING:KEY');
  if (id !== undefined) {
    if (!/^\d+$/.test(id)) throw new UsageError(`not a log id: "${id}"`);
    return { logId: Number(id) };
  }
  const at = key!.indexOf(':');
  if (at < 1) throw new UsageError(`--key: expected MAPPING:KEY, e.g. users_to_accounts:42, not "${key}"`);
  return { mapping: key!.slice(0, at), rowKey: key!.slice(at + 1) };
}

export function addOperatingCommands(program: Command, load: Load, run: Run): void {
  for (const paused of [true, false]) {
    withOutput(
      program
        .command(paused ? 'pause' : 'resume')
        .summary(paused ? 'stop carrying mappings; their changes are still captured' : 'carry paused mappings again, what waited first')
        .description(
          paused
            ? 'Pause mappings: their triggers still write every change to the log, but no new workflow carries them until `ferry resume`.'
            : 'Resume paused mappings: the changes captured while paused are carried, in the order they were captured.',
        )
        .argument('<mapping...>', 'mapping names'),
    ).action(
      run(async (names: string[], flags: OutputFlags) => {
        const { config, logger } = await load(flags);
        const { pauseCommand } = await import('../commands/pause.js');
        return pauseCommand(config, logger, { names, paused, output: flags.output });
      }),
    );
  }

  withOutput(
    program
      .command('logs')
      .summary("one sync's story: its logs, statuses, workflows, parents waited for, attempts and errors")
      .description(
        'The story of one log, or of the logs of one source row (--key MAPPING:KEY, the newest 50): status, attempts and error, ' +
          'the workflow that carried each with its Web UI link, the parent it waits for, and the parents the row names. ' +
          'Exits 1 when no log matches.',
      )
      .argument('[logId]', 'a log id')
      .option('--key <mapping:key>', 'the logs of one source row, e.g. users_to_accounts:42'),
  ).action(
    run(async (id: string | undefined, flags: LogsFlags) => {
      const target = storyTarget(id, flags.key);
      const { config } = await load(flags);
      const { logsCommand } = await import('../commands/logs.js');
      return logsCommand(config, target, flags.output);
    }),
  );

  withOutput(
    program
      .command('mappings')
      .summary('each mapping with its source, target, parents, mode, trigger state and whether it is paused')
      .description('Each mapping of the config with its source, target, parents, mode (one-way, two-way), capture, trigger state and paused or not.'),
  ).action(
    run(async (flags: OutputFlags) => {
      const { config } = await load(flags);
      const { mappingsCommand } = await import('../commands/mappings.js');
      return mappingsCommand(config, flags.output);
    }),
  );
}
