// pause/resume, logs and mappings as an operator runs them (child processes),
// against a running Ferry on real Postgres and the run's Temporal dev server,
// on both lanes: a paused mapping's logs are claimed neither singly nor in batches.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
import { syncLogWorkflowId } from '../src/contract/index.js';
import { logTable } from '../src/db/index.js';
import type { FerryProcess } from '../src/runtime.js';
import type { SyncStory } from '../src/operate/sync-story.js';
import type { MappingReport } from '../src/operate/mappings-report.js';
import type { StatusReport } from '../src/operate/status.js';
import { runCli, writeCliConfig } from './support/cli.js';
import { createTestDatabase, LANES, startFerry, testConfig, type Lane, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
const execFileAsync = promisify(execFile);
const MAPPINGS = "exampleSubset('users_to_accounts', 'orders_to_orders')";

interface Setup {
  db: TestDatabase;
  config: FerryConfig;
  ferry: FerryProcess;
  configFile: string;
}
const setups: Setup[] = [];
afterAll(async () => {
  for (const s of setups) await s.ferry.stop();
  await Promise.all(setups.map((s) => s.db.drop()));
});

async function setUp(lane: Lane): Promise<Setup> {
  const db = await createTestDatabase(FILE, '', { lane });
  // A missing parent is looked for again only after a minute: an order stays waiting.
  const settings = { missingParent: { initialInterval: '1m', maximumAttempts: 100 } };
  const config = testConfig(FILE, db, { ...settings, mappings: exampleSubset('users_to_accounts', 'orders_to_orders') }, lane);
  const ferry = await startFerry(config);
  const configFile = writeCliConfig(
    `operating-${lane}.config.ts`,
    { ...settings, database: { url: db.url }, temporal: { ...config.temporal, uiUrl: inject('temporalUiUrl') }, listener: config.listener },
    MAPPINGS,
  );
  const s = { db, config, ferry, configFile };
  setups.push(s);
  return s;
}

/** `ferry <args> -o json --config ...`, its stdout parsed. */
async function json<T>(s: Setup, args: string[], code = 0): Promise<T> {
  const run = await runCli([...args, '-o', 'json', '--config', s.configFile]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(code);
  return JSON.parse(run.stdout) as T;
}

/** Resolves after `n` sweeps of the running listener (each claims what is claimable). */
function sweeps(s: Setup, n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const on = () => {
      if (++seen < n) return;
      s.ferry.events.off('swept', on);
      resolve();
    };
    s.ferry.events.on('swept', on);
  });
}

describe.each(LANES)('%s lane', (lane) => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp(lane);
  });

  it('pause: 100 changes are captured and none carried; resume carries them all, claimed in capture order', async () => {
    expect(await json(s, ['pause', 'users_to_accounts'])).toEqual({ paused: ['users_to_accounts'], unchanged: [] });

    await s.db.pool.query(`INSERT INTO portal.users (email, full_name) SELECT 'u' || i || '@x', 'User ' || i FROM generate_series(1, 100) i`);
    // A child of a paused mapping waits for its parent rather than carrying the parent's log itself.
    await s.db.pool.query(`INSERT INTO portal.orders (user_id, amount, status) SELECT min(id), 5, 'new' FROM portal.users`);
    await waitFor(
      'the order waits for its paused parent',
      async () =>
        (await s.db.pool.query(`SELECT 1 FROM ferry.database_trigger_log WHERE mapping = 'orders_to_orders' AND waiting_key IS NOT NULL`)).rowCount,
    );
    await sweeps(s, 3);
    const q = (sql: string) => s.db.pool.query(sql).then((r) => r.rows);
    expect(
      await q(`SELECT (SELECT count(*) FROM salesforce.account)::int AS accounts, (SELECT count(*) FROM salesforce.order__c)::int AS orders`),
    ).toEqual([{ accounts: 0, orders: 0 }]);
    expect(
      await q(`SELECT mapping, status, count(*)::int AS n, count(dispatched_at)::int AS dispatched, count(waiting_key)::int AS waiting
                 FROM ferry.database_trigger_log GROUP BY mapping, status ORDER BY mapping`),
    ).toEqual([
      // Waiting, or between two waits: never carried without its parent.
      { mapping: 'orders_to_orders', status: 'pending', n: 1, dispatched: expect.any(Number), waiting: expect.any(Number) },
      { mapping: 'users_to_accounts', status: 'pending', n: 100, dispatched: 0, waiting: 0 },
    ]);
    // The claims themselves, singly and in batches, take nothing of it.
    const claimed = await logTable.claim(s.db.pool, { limit: 1000, owner: 1, backlogAbove: 0 });
    // (An order claimed here by a dead owner goes back to the queue at the next sweep.)
    expect(claimed.logs.filter((l) => l.mapping === 'users_to_accounts')).toEqual([]);
    expect(claimed.backlog).not.toContain('users_to_accounts');
    expect(await logTable.claimBatch(s.db.pool, { limit: 1000, owner: 1 }, ['users_to_accounts'], () => 'x')).toBeUndefined();

    const status = await json<StatusReport>(s, ['status', '--max-pending-age', '1ms'], 1);
    expect(status.mappings.find((m) => m.mapping === 'users_to_accounts')).toMatchObject({ paused: true, pending: 100 });
    // A paused mapping's old logs are no problem; the waiting order's are.
    expect(status.problems).toEqual([expect.stringMatching(/^orders_to_orders: oldest pending log/)]);
    const listed = await json<MappingReport[]>(s, ['mappings']);
    expect(listed.map((m) => [m.name, m.paused, m.trigger])).toEqual([
      ['users_to_accounts', true, 'installed'],
      ['orders_to_orders', false, 'installed'],
    ]);

    const [{ now: resumedAt }] = await q(`SELECT now()`);
    expect(await json(s, ['resume', 'users_to_accounts'])).toEqual({ resumed: ['users_to_accounts'], unchanged: [] });
    await waitFor('all carried after resume', async () => (await q(`SELECT count(*)::int AS n FROM salesforce.account`))[0].n === 100, {
      timeoutMs: 60_000,
    });
    await waitFor('the order carried after its parent', async () => (await q(`SELECT count(*)::int AS n FROM salesforce.order__c`))[0].n === 1);
    const logs = await q(
      `SELECT id, status, dispatched_at, synced_at FROM ferry.database_trigger_log WHERE mapping = 'users_to_accounts' ORDER BY id`,
    );
    expect(logs.every((l) => l.status === 'synced' && l.dispatched_at >= resumedAt)).toBe(true);
    // Claimed in the order captured: dispatch times never go back as ids go up.
    for (let i = 1; i < logs.length; i++) expect(logs[i].dispatched_at.getTime()).toBeGreaterThanOrEqual(logs[i - 1].dispatched_at.getTime());
  });

  it('logs: a log that waits for a parent names the parent and its workflow', async () => {
    await s.db.pool.query(`INSERT INTO portal.orders (user_id, amount, status) VALUES (424242, 9, 'new')`);
    const { id } = await waitFor('the order waits', async () => {
      const r = await s.db.pool.query(`SELECT id FROM ferry.database_trigger_log WHERE mapping = 'orders_to_orders' AND waiting_key IS NOT NULL`);
      return r.rows[0] as { id: number } | undefined;
    });
    const workflowId = syncLogWorkflowId(s.config.instance, id);
    const story = await json<SyncStory>(s, ['logs', String(id)]);
    expect(story.logs).toEqual([
      expect.objectContaining({
        logId: id,
        status: 'pending',
        workflowId,
        waitingFor: [{ mapping: 'users_to_accounts', key: '424242', logId: null }],
      }),
    ]);
    expect(story.logs[0]!.webUi).toContain(encodeURIComponent(workflowId));
    expect(story.parents).toEqual([
      expect.objectContaining({ mapping: 'users_to_accounts', column: 'user_id', key: '424242', presentInTarget: false }),
    ]);

    const text = await runCli(['logs', '--key', `orders_to_orders:${story.rowKey}`, '--config', s.configFile]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`log ${id}  INSERT  pending`);
    expect(text.stdout).toContain(`workflow ${workflowId}`);
    expect(text.stdout).toContain('waits for parent users_to_accounts key 424242');
    const none = await runCli(['logs', '999999', '--config', s.configFile]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('log 999999: no such log');
  });
});

describe('conventions shared by every command', () => {
  const out = `${process.pid}.init.ts`;
  it.each<[string, string[][]]>([
    [
      'migrate, status, mappings, pause, resume, logs',
      [
        ['migrate'],
        ['migrate', '--print'],
        ['status'],
        ['mappings'],
        ['pause', 'orders_to_orders'],
        ['resume', 'orders_to_orders'],
        ['logs', '1'],
        ['logs', '--key', 'users_to_accounts:1'],
      ],
    ],
    [
      'prune, retry, replay, verify, backfill, init',
      [
        ['prune', '--older-than', '7d'],
        ['prune', '--older-than', '7d', '--dry-run'],
        ['retry', '--failed', '--dry-run'],
        ['retry', '--failed'],
        ['replay'],
        ['verify', 'users_to_accounts'],
        ['backfill', 'users_to_accounts', '--detach'],
        ['init', '--from', 'portal', '--to', 'salesforce', '--out', out, '--force'],
      ],
    ],
  ])('-o json prints one JSON document on stdout: %s', async (_, argsList) => {
    const s = setups[0]!;
    const commands = argsList.map((args): [string[], number] => [args.map((a) => (a === out ? `${s.configFile}.${out}` : a)), 0]);
    const runs = [];
    // A few at a time: each is a process that loads TypeScript.
    for (let i = 0; i < commands.length; i += 4)
      runs.push(
        ...(await Promise.all(
          commands
            .slice(i, i + 4)
            .map(async ([args, code]) => ({ args, code, run: await runCli([...args, '-o', 'json', '--config', s.configFile]) })),
        )),
      );
    for (const { args, code, run } of runs) {
      expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code, stderr: expect.any(String) });
      expect(() => JSON.parse(run.stdout), `ferry ${args.join(' ')} -o json: ${run.stdout}`).not.toThrow();
    }
  });

  it('--json is the same as -o json', async () => {
    const s = setups[0]!;
    expect(JSON.parse((await runCli(['mappings', '--json', '--config', s.configFile])).stdout)).toHaveLength(2);
  });

  it('honours NO_COLOR on a terminal: pretty log lines without colour codes', async () => {
    const s = setups[0]!;
    // `script` gives the child a terminal, as when a person runs it.
    const onTerminal = async (env: Record<string, string>) =>
      (
        await execFileAsync('script', ['-qec', `node --import tsx src/cli.ts migrate --config ${s.configFile}`, '/dev/null'], {
          cwd: fileURLToPath(new URL('..', import.meta.url)),
          env: { ...process.env, FERRY_LOG_JSON: '', ...env },
        })
      ).stdout;
    const [coloured, plain] = await Promise.all([onTerminal({ NO_COLOR: '' }), onTerminal({ NO_COLOR: '1' })]);
    expect(coloured).toContain('database migrated');
    expect(coloured).toMatch(/\x1b\[[0-9;]*m/); // eslint-disable-line no-control-regex
    expect(plain).toContain('database migrated');
    expect(plain).not.toMatch(/\x1b\[[0-9;]*m/); // eslint-disable-line no-control-regex
  });

  it('status --watch redraws the table in place on a terminal, until Ctrl-C', async () => {
    const s = setups[0]!;
    const root = fileURLToPath(new URL('..', import.meta.url));
    const { stdout } = await execFileAsync(
      'script',
      ['-qec', `timeout -s INT 4 node --import tsx src/cli.ts status --watch --interval 500ms --config ${s.configFile}`, '/dev/null'],
      { cwd: root, env: { ...process.env, FERRY_LOG_JSON: '' } },
    ).catch((err: { stdout: string }) => err); // timeout's INT ends it
    const frames = stdout.split('\x1b[H\x1b[2J').slice(1);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    for (const frame of frames) expect(frame).toMatch(/^MAPPING\s+PENDING/m);
  });

  it('--dry-run on prune and retry --failed says what it would do and changes nothing', async () => {
    const s = setups[0]!;
    const q = (sql: string) => s.db.pool.query(sql).then((r) => r.rows);
    // One log failed, as if its transform had thrown.
    await q(`UPDATE ferry.database_trigger_log SET status = 'failed', error = 'boom' WHERE id = (SELECT min(id) FROM ferry.database_trigger_log)`);
    const before = await q(`SELECT id, status FROM ferry.database_trigger_log ORDER BY id`);
    const finished = before.filter((l) => l.status === 'synced' || l.status === 'skipped').length;
    expect(await json(s, ['prune', '--older-than', '0', '--dry-run'])).toEqual({ dryRun: true, wouldDelete: finished });
    expect(await json(s, ['retry', '--failed', '--dry-run'])).toEqual({ dryRun: true, logs: [{ logId: before[0].id, outcome: 'would restart' }] });
    expect(await q(`SELECT id, status FROM ferry.database_trigger_log ORDER BY id`)).toEqual(before);
    const bad = await runCli(['retry', '1', '--dry-run', '--config', s.configFile]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('ferry: --dry-run goes with --failed\n');
  });
});
