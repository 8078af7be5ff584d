// The command line's own surface: usage, per-command help and the exit codes
// (0 success, 1 runtime failure, 2 bad usage or bad config). No database:
// every case here stops before a command loads its config.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

describe('ferry usage and help', () => {
  it('prints usage: --help exits 0, no command exits 2, an unknown command exits 2', async () => {
    const [help, bare, unknown] = await Promise.all([runCli(['--help']), runCli([]), runCli(['nosuch'])]);
    expect(help.code).toBe(0);
    for (const command of ['migrate', 'start', 'listen', 'worker', 'dev', 'status', 'prune', 'replay', 'retry', 'backfill', 'verify', 'init']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    expect(help.stdout).toContain('Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad config.');
    expect(bare.code).toBe(2);
    expect(bare.stdout).toContain('Usage: ferry <command>');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('ferry: unknown command');
    expect(unknown.stderr).toContain('Usage: ferry <command>');
  });

  it('gives each command its own --help, exit 0', async () => {
    const [backfill, viaHelp, status] = await Promise.all([runCli(['backfill', '--help']), runCli(['help', 'backfill']), runCli(['status', '-h'])]);
    expect(backfill.code).toBe(0);
    expect(backfill.stdout).toContain('Usage: ferry backfill');
    for (const flag of ['--where <sql>', '--batch-size <n>', '--all', '--detach', '--cancel', '--config <path>', '-o, --output <format>'])
      expect(backfill.stdout).toContain(flag);
    expect(backfill.stdout).not.toContain('--batch <n>'); // the old name still parses, unlisted
    expect(backfill.stdout.replace(/\s+/g, ' ')).toContain('(default: 1000)');
    expect(backfill.stdout).not.toContain('--older-than');
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(backfill.stdout);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('--max-pending-age <duration>');
    expect(status.stdout.replace(/\s+/g, ' ')).toContain('(default: 5m)'); // help wraps at 80 columns
  });

  it('exits 2 on bad usage, before it loads a config', async () => {
    const [unknownOption, badInt, badDuration, excess] = await Promise.all([
      runCli(['status', '--bogus']),
      runCli(['status', '--limit', '0', '--config', '/nonexistent/ferry.config.ts']),
      runCli(['prune', '--older-than', 'soon', '--config', '/nonexistent/ferry.config.ts']),
      runCli(['replay', 'extra']),
    ]);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("ferry: unknown option '--bogus'");
    expect(badInt.code).toBe(2);
    expect(badInt.stderr).toContain('ferry: --limit: not a positive whole number: "0"');
    expect(badDuration.code).toBe(2);
    expect(badDuration.stderr).toContain('ferry: --older-than: not a duration: "soon"');
    expect(excess.code).toBe(2);
  });

  it('prints its version: --version and -V, exit 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const [long, short] = await Promise.all([runCli(['--version']), runCli(['-V'])]);
    expect(long).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(short.stdout).toBe(`${version}\n`);
  });

  it('a bad flag value exits 2 with one line, before it loads a config', async () => {
    const missing = ['--config', '/nonexistent/ferry.config.ts'];
    const [level, envLevel, format, batch] = await Promise.all([
      runCli(['status', '--log-level', 'bogus', ...missing]),
      runCli(['migrate', '--print', ...missing], { FERRY_LOG_LEVEL: 'bogus' }),
      runCli(['status', '-o', 'yaml', ...missing]),
      runCli(['backfill', '--all', '--batch', '0', ...missing]),
    ]);
    for (const run of [level, envLevel, format, batch]) {
      expect(run.code).toBe(2);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
    expect(level.stderr).toBe('ferry: --log-level: not a level: "bogus" (one of trace, debug, info, warn, error, fatal, silent)\n');
    expect(envLevel.stderr).toContain('ferry: FERRY_LOG_LEVEL: not a level: "bogus"');
    expect(format.stderr).toBe('ferry: --output: not a format: "yaml" (text or json)\n');
    expect(batch.stderr).toBe('ferry: --batch: not a positive whole number: "0"\n');
  });
});
