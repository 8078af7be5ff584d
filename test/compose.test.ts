// docker-compose.yml is valid Compose: checked offline with `docker compose
// config` (the Compose v2 plugin) or, where the plugin is missing, Debian's
// docker-compose; neither needs a running Docker engine for `config`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runsWith } from './support/system-tools.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');

let found: string[] | undefined;

/** The compose command that works here: ['docker', 'compose'] or ['docker-compose']. */
function composeCommand(): string[] {
  found ??= detect();
  if (!found) throw new Error('neither `docker compose` nor `docker-compose` is installed (.ci/run installs docker-compose)');
  return found;
}

function detect(): string[] | undefined {
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose'];
  return undefined;
}

function compose(file: string, ...args: string[]) {
  const [cmd, ...pre] = composeCommand();
  return spawnSync(cmd!, [...pre, '-f', file, ...args], { cwd: ROOT, encoding: 'utf8' });
}

describe.skipIf(!runsWith('docker-compose', detect() !== undefined))('docker-compose.yml', () => {
  it('is valid and runs Postgres, Temporal, its Web UI and Ferry on the example', () => {
    // `config` validates the file and prints it resolved.
    const check = compose(COMPOSE_FILE, 'config');
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    const resolved = check.stdout;

    const services = compose(COMPOSE_FILE, '--profile', 'scale', 'config', '--services').stdout.trim().split('\n').sort();
    expect(services).toEqual(['ferry', 'postgres', 'temporal', 'temporal-ui', 'worker']);

    // Ferry reaches both servers by the names the config reads from the environment.
    expect(resolved).toContain('DATABASE_URL: postgres://postgres:postgres@postgres:5432/ferry_example');
    expect(resolved).toContain('TEMPORAL_ADDRESS: temporal:7233');
    expect(resolved).toContain('image: temporalio/auto-setup');
    expect(resolved).toContain('image: temporalio/ui');
    expect(resolved).toMatch(/exec node bin\/ferry\.mjs\s+start/);
  });

  it('the same check rejects a broken file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-compose-'));
    const broken = path.join(dir, 'docker-compose.yml');
    writeFileSync(broken, 'services:\n  ferry:\n    image: ferry\n    ports: 9464\n    depends_on: [nowhere]\n');
    expect(compose(broken, 'config', '-q').status).not.toBe(0);
  });
});
