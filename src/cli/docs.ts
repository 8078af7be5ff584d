// docs/cli.md, made from the commander definitions (`npm run docs:cli`), so
// the reference cannot drift from the flags: test/cli-docs.test.ts fails when
// the committed file differs from what this renders.
import type { Command, Option } from 'commander';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function optionRows(options: readonly Option[]): string[] {
  return [
    '| option | meaning | default |',
    '| --- | --- | --- |',
    ...options.map((o) => {
      const def = o.defaultValueDescription ?? (o.defaultValue === undefined ? '' : String(o.defaultValue));
      return `| \`${cell(o.flags)}\` | ${cell(o.description)} | ${def ? `\`${cell(def)}\`` : ''} |`;
    }),
  ];
}

/** The reference of every command, in the order the program defines them. */
export function renderCliDocs(program: Command): string {
  const help = program.createHelp();
  const commands = program.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
  const out = [
    '<!-- Generated from src/cli.ts by `npm run docs:cli`; edit the definitions, not this file. -->',
    '',
    '# ferry command line',
    '',
    `${program.description()}`,
    '',
    `Usage: \`ferry ${program.usage()}\`. Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad config.`,
    'Bad flag values exit 2 with one line on stderr. Colour only on a terminal, never with `NO_COLOR` set.',
    '',
    '| command | does |',
    '| --- | --- |',
    ...commands.map((c) => `| [\`${c.name()}\`](#ferry-${c.name()}) | ${cell(c.summary() || c.description())} |`),
    '',
    '## Options of every command',
    '',
    'Before or after the command name.',
    '',
    ...optionRows(help.visibleOptions(program)),
  ];
  for (const c of commands) {
    out.push('', `## ferry ${c.name()}`, '', `\`ferry ${c.name()} ${c.usage()}\``, '', c.description());
    const args = help.visibleArguments(c);
    if (args.length) {
      out.push('', '| argument | meaning |', '| --- | --- |');
      for (const a of args) out.push(`| \`${a.name()}${a.variadic ? '...' : ''}\` | ${cell(a.description)} |`);
    }
    const options = help.visibleOptions(c).filter((o) => o.long !== '--help');
    if (options.length) out.push('', ...optionRows(options));
  }
  return out.join('\n') + '\n';
}
