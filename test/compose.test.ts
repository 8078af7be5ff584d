// docker-compose.yml is valid Compose: checked offline with `docker compose
// config` (the Compose v2 plugin) or, where the plugin is missing, Debian's
// docker-compose; neither needs a running Docker engine for `config`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
  it("is valid: Temporal set up as its own compose files do, Ferry's image with a mounted config, host port 5432 free", () => {
    // `config` validates the file and prints it resolved.
    const check = compose(COMPOSE_FILE, 'config');
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    const resolved = check.stdout;

    const services = compose(COMPOSE_FILE, '--profile', 'scale', 'config', '--services').stdout.trim().split('\n').sort();
    expect(services).toEqual(['ferry', 'postgres', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'worker']);

    // admin-tools sets up the schemas, then the server starts; no deprecated auto-setup image.
    expect(resolved).toContain('image: temporalio/admin-tools');
    expect(resolved).toContain('image: temporalio/server');
    expect(resolved).not.toContain('auto-setup');
    expect(resolved).toMatch(/temporal-schema:\s+condition: service_completed_successfully/);
    expect(resolved).toContain('update-schema');
    // Nothing takes the host's Postgres port.
    expect(resolved).not.toMatch(/published: "?5432"?/);

    // Ferry reaches both servers by the names the config reads from the environment, its config mounted where the image reads it.
    expect(resolved).toContain('DATABASE_URL: postgres://postgres:postgres@postgres:5432/ferry_example');
    expect(resolved).toContain('TEMPORAL_ADDRESS: temporal:7233');
    // Compose v2 prints a long-form volume, v1 the short form.
    expect(resolved).toMatch(/target: \/app\/config|:\/app\/config:ro/);
    expect(resolved).toMatch(/exec node dist\/src\/cli\.js start --metrics-host\s+0\.0\.0\.0/);
  });

  it('the same check rejects a broken file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-compose-'));
    const broken = path.join(dir, 'docker-compose.yml');
    writeFileSync(broken, 'services:\n  ferry:\n    image: ferry\n    ports: 9464\n    depends_on: [nowhere]\n');
    expect(compose(broken, 'config', '-q').status).not.toBe(0);
  });
});

describe('Dockerfile', () => {
  it('the Dockerfile: a build stage, then node 22+ slim with production dependencies only, non-root, a /livez health check', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const stages = dockerfile.split(/^FROM /m).slice(1);
    expect(stages).toHaveLength(2);
    const runtime = stages[1]!;
    expect(runtime).toMatch(/^node:(2[2-9]|[3-9]\d)[\w.-]*slim/);
    expect(runtime).toContain('npm ci --omit=dev --ignore-scripts');
    expect(runtime.match(/^COPY .*$/gm)).toEqual([
      'COPY package.json package-lock.json ./',
      'COPY --from=build /build/dist ./dist',
      'COPY sql ./sql',
    ]);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n?.*\/livez/m);
    expect(runtime).toContain('ENV FERRY_CONFIG=/app/config/ferry.config.ts');
  });
});
