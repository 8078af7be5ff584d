import { inject } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { waitFor } from './wait.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(ROOT, 'src/cli.ts');
const EXAMPLE_MAPPINGS = pathToFileURL(path.join(ROOT, 'example/mappings.ts')).href;
const CHAIN_MAPPINGS = pathToFileURL(path.join(ROOT, 'test/support/chain.ts')).href;

/**
 * Writes a config module for a `ferry` child process. `settings` is plain
 * data (database, temporal, ...); `mappings` is source text, which may use
 * `exampleMappings` and `exampleSubset(...)` from example/mappings.ts and `chainMappings` from
 * test/support/chain.ts.
 */
export function writeCliConfig(name: string, settings: Record<string, unknown>, mappings = 'exampleMappings'): string {
  const dir = path.join(os.tmpdir(), `ferry-cli-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(
    file,
    `import { exampleMappings, exampleSubset } from ${JSON.stringify(EXAMPLE_MAPPINGS)};\n` +
      `import { chainMappings } from ${JSON.stringify(CHAIN_MAPPINGS)};\n` +
      `export default { ...${JSON.stringify(settings)}, mappings: ${mappings} };\n`,
  );
  return file;
}

export interface CliRun {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Starts `ferry <args>` as a child process, the way an operator runs it (from the repo, via tsx). */
function runBundle(): NodeJS.ProcessEnv {
  const bundle = inject('workflowBundlePath') as string | undefined;
  return bundle ? { FERRY_WORKFLOW_BUNDLE: bundle } : {};
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    // The run's prebuilt workflow bundle: a child worker then skips bundling from source (seconds).
    env: { ...process.env, FERRY_LOG_JSON: '1', ...runBundle(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  // Never outlive the test process (a test that timed out before its afterAll saw the child).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs `ferry <args>` to the end. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = spawnCli(args, env);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** The JSON log lines a child printed (pino, one object a line). */
export function jsonLines(text: string): Record<string, any>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

export type ServeCommand = 'start' | 'listen' | 'worker';

export interface ServingCli extends CliRun {
  command: ServeCommand;
  /** Its /healthz address. */
  healthUrl: string;
}

/**
 * `ferry start|listen|worker` as a child process, resolved once its /healthz
 * answers 200 (Postgres, Temporal, listener and worker all up). The config's
 * metrics port should be 0 (a free port each), as several may run at once.
 */
export async function startServing(command: ServeCommand, configFile: string, args: string[] = [], timeoutMs = 120_000): Promise<ServingCli> {
  const run = spawnCli([command, '--config', configFile, '--metrics-port', '0', ...args]);
  try {
    const healthUrl = await waitFor(
      `ferry ${command} serving health`,
      () => {
        if (run.child.exitCode !== null) throw new Error(`ferry ${command} exited ${run.child.exitCode}: ${run.stderr()}`);
        return jsonLines(run.stdout()).find((l) => l.msg === 'serving metrics and health')?.health as string | undefined;
      },
      { timeoutMs },
    );
    await waitFor(
      `ferry ${command} healthy`,
      async () => {
        if (run.child.exitCode !== null) throw new Error(`ferry ${command} exited ${run.child.exitCode}: ${run.stderr()}`);
        return (await fetch(healthUrl)).status === 200;
      },
      { timeoutMs, intervalMs: 100 },
    );
    return { ...run, command, healthUrl };
  } catch (err) {
    run.child.kill('SIGKILL');
    throw err;
  }
}

/** kill -9, resolved once the process is gone. */
export async function killHard(run: CliRun): Promise<void> {
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  await run.exited;
}
