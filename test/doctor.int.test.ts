// `ferry doctor` on a database that captures what the config says, then on
// one that does not (a mapping added without `ferry migrate`): doctor names
// the mapping and the fix, and `ferry start` refuses to run.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, writeCliConfig } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/harness.js';
import { namespaceForFile } from './support/names.js';

const FILE = import.meta.url;
let db: TestDatabase;
let migrated: string;
let drifted: string;

interface Check {
  check: string;
  status: string;
  detail: string;
  fix?: string;
}

const settings = () => ({
  database: { url: db.url },
  temporal: { address: inject('temporalAddress'), namespace: namespaceForFile(FILE), taskQueue: 'ferry-doctor' },
  metrics: false,
});

beforeAll(async () => {
  db = await createTestDatabase(FILE);
  migrated = writeCliConfig('doctor.config.ts', settings(), "exampleSubset('users_to_accounts')");
  drifted = writeCliConfig('doctor-drift.config.ts', settings(), "exampleSubset('users_to_accounts', 'orders_to_orders')");
  const run = await runCli(['migrate', '--config', migrated]);
  expect(run.code, run.stderr).toBe(0);
});

afterAll(async () => {
  await db?.drop();
});

async function doctor(config: string): Promise<{ code: number | null; checks: Check[] }> {
  const { code, stdout } = await runCli(['doctor', '--config', config, '-o', 'json']);
  return { code, checks: (JSON.parse(stdout) as { checks: Check[] }).checks };
}

describe('ferry doctor', () => {
  it('passes on a migrated database: every check ok (no worker runs: a warning, not a problem)', async () => {
    const { code, checks } = await doctor(migrated);
    expect(checks.filter((c) => c.status === 'problem')).toEqual([]);
    expect(code).toBe(0);
    expect(checks.map((c) => c.check)).toEqual(
      expect.arrayContaining(['postgres', 'schema', 'capture', 'tables', 'temporal', 'namespace', 'search attributes', 'workers']),
    );
    expect(checks.find((c) => c.check === 'postgres')!.detail).toMatch(/^reachable, PostgreSQL \d+/);
    expect(checks.filter((c) => c.check === 'workers').map((c) => c.status)).toEqual(['warn', 'warn']);
  });

  it('a mapping added without `ferry migrate`: doctor names it and the fix, exit 1', async () => {
    const { code, checks } = await doctor(drifted);
    expect(code).toBe(1);
    expect(checks.filter((c) => c.status === 'problem')).toEqual([
      {
        check: 'capture',
        status: 'problem',
        detail: expect.stringMatching(/^mapping orders_to_orders \(portal\.orders\): not captured/),
        fix: 'ferry migrate',
      },
    ]);
    const text = await runCli(['doctor', '--config', drifted]);
    expect(text.stdout).toMatch(/^PROBLEM {2}capture: mapping orders_to_orders .* -> fix: ferry migrate$/m);
  });

  it('`ferry start` refuses that config, naming the mapping and `ferry migrate`', async () => {
    const { code, stderr } = await runCli(['start', '--config', drifted, '--metrics-port', '0']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/refusing to start/);
    expect(stderr).toMatch(/mapping orders_to_orders \(portal\.orders\): not captured .*: run `ferry migrate`/);
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it('a disabled trigger, or one that captures differently (capture.notify changed), is drift too', async () => {
    await db.pool.query(`ALTER TABLE portal.users DISABLE TRIGGER ferry_log_update`);
    const disabled = await doctor(migrated);
    expect(disabled.code).toBe(1);
    expect(disabled.checks.find((c) => c.status === 'problem')!.detail).toMatch(
      /users_to_accounts \(portal\.users\): trigger ferry_log_update missing or disabled/,
    );
    await db.pool.query(`ALTER TABLE portal.users ENABLE TRIGGER ferry_log_update`);
    expect((await doctor(migrated)).code).toBe(0);

    const notifying = writeCliConfig('doctor-notify.config.ts', { ...settings(), capture: { notify: true } }, "exampleSubset('users_to_accounts')");
    const changed = await doctor(notifying);
    expect(changed.code).toBe(1);
    expect(changed.checks.find((c) => c.status === 'problem')!.detail).toMatch(
      /users_to_accounts \(portal\.users\): the trigger captures differently/,
    );
  });
});
