// `ferry doctor`: everything a deployment needs, checked in order, one line
// each with the fix. Postgres first (its version, schema ferry, the capture
// against the config, the tables' keys), then Temporal as configured (TLS,
// API key), its namespace, Ferry's search attributes, and the workers.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { captureDrift } from '../capture/drift.js';
import { schemaProblems } from '../capture/migrate.js';
import type { FerryConfig } from '../config.js';
import { batchTaskQueue } from '../contract/index.js';
import { withPool, type Pool } from '../db/index.js';
import { slotHealth } from '../capture/wal/slot-health.js';
import { walProblems } from '../capture/wal/wal-migrate.js';
import { connectOnce, missingSearchAttributes, searchAttributeCommands } from '../temporal/client.js';
import { TemporalAccessError } from '../temporal/connection.js';
import { displayUrl } from '../terminal.js';

const { TaskQueueType } = proto.temporal.api.enums.v1;

export interface DoctorCheck {
  check: string;
  /** warn: worth knowing, not a failure (e.g. no worker running yet). */
  status: 'ok' | 'problem' | 'warn';
  detail: string;
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

const ok = (check: string, detail: string): DoctorCheck => ({ check, status: 'ok', detail });
const problem = (check: string, detail: string, fix?: string): DoctorCheck => ({ check, status: 'problem', detail, fix });
const firstLine = (err: unknown) => ((err as Error).message ?? String(err)).split('\n')[0]!;

async function postgresChecks(config: FerryConfig): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  try {
    await withPool(config.database.url, 1, async (pool) => {
      const version = (await pool.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
      out.push(ok('postgres', `reachable, PostgreSQL ${version}`));
      const drift = await captureDrift(pool, config);
      const { applied, latest } = drift.schema;
      out.push(
        applied >= latest
          ? ok('schema', `ferry at version ${applied}`)
          : problem('schema', `ferry at version ${applied}, needs ${latest}`, 'ferry migrate'),
      );
      const capture = drift.problems.filter((p) => !p.startsWith('schema ferry'));
      if (capture.length === 0) out.push(ok('capture', `${config.mappings.length} mapping(s) captured as the config says`));
      for (const p of capture) out.push(problem('capture', p.replace(/: run `ferry migrate`$/, ''), 'ferry migrate'));
      if (config.capture.mode === 'wal') out.push(...(await walChecks(pool, config)));
      const tables = await pool.connect().then(async (client) => {
        try {
          return await schemaProblems(client, config);
        } finally {
          client.release();
        }
      });
      if (tables.length === 0) out.push(ok('tables', 'source and target tables exist; target keys are unique'));
      for (const p of tables) out.push(problem('tables', p, 'change the table or the mapping (see the detail)'));
    });
  } catch (err) {
    out.push(problem('postgres', `cannot reach ${displayUrl(config.database.url)}: ${firstLine(err)}`, 'check DATABASE_URL and that Postgres runs'));
  }
  return out;
}

/** WAL mode: the server still allows it, and the slot is neither lost nor holding back too much WAL. */
async function walChecks(pool: Pool, config: FerryConfig): Promise<DoctorCheck[]> {
  const out = (await walProblems(pool)).map((p) => problem('wal', p));
  const slot = await slotHealth(pool, config);
  if (!slot.exists) return out; // drift reports it
  const detail = `slot ${slot.slot}: wal_status ${slot.walStatus ?? '-'}, lag ${slot.lagBytes ?? '-'} bytes${slot.active ? ', streaming' : ''}`;
  if (slot.walStatus === 'lost') out.push(problem('wal slot', `${detail}: changes were missed`, 'ferry migrate, then ferry verify --all --repair'));
  else if (slot.problem) out.push({ check: 'wal slot', status: 'warn', detail: slot.problem });
  else out.push(ok('wal slot', detail));
  return out;
}

async function temporalChecks(config: FerryConfig): Promise<DoctorCheck[]> {
  const { address, namespace, taskQueue } = config.temporal;
  let client: Client;
  try {
    client = await connectOnce(config);
  } catch (err) {
    if (err instanceof TemporalAccessError)
      return [problem('temporal', err.message, 'fix TEMPORAL_TLS_* / TEMPORAL_API_KEY, or temporal.tls / temporal.apiKey')];
    return [problem('temporal', `cannot reach ${address}: ${firstLine(err)}`, 'check TEMPORAL_ADDRESS and that Temporal runs')];
  }
  const { connection } = client;
  const out: DoctorCheck[] = [ok('temporal', `reachable at ${address}${config.temporal.tls && !config.temporal.tls.disabled ? ' over TLS' : ''}`)];
  try {
    try {
      await connection.workflowService.describeNamespace({ namespace });
      out.push(ok('namespace', namespace));
    } catch (err) {
      out.push(problem('namespace', `${namespace}: ${firstLine(err)}`, `create it: temporal operator namespace create --namespace ${namespace}`));
      return out;
    }
    try {
      const missing = await missingSearchAttributes(client, namespace);
      if (missing.length === 0) out.push(ok('search attributes', 'all present'));
      else
        out.push(
          problem(
            'search attributes',
            `missing: ${missing.map((k) => k.name).join(', ')}`,
            `ferry migrate, or: ${searchAttributeCommands(namespace, missing).join('  |  ')}`,
          ),
        );
    } catch (err) {
      out.push({ check: 'search attributes', status: 'warn', detail: `cannot list them: ${firstLine(err)}` });
    }
    for (const [queue, type, what] of [
      [taskQueue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, 'syncs'],
      [batchTaskQueue(taskQueue), TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, 'batch chunks'],
    ] as const) {
      const { pollers } = await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: queue }, taskQueueType: type });
      out.push(
        pollers && pollers.length > 0
          ? ok('workers', `${pollers.length} poller(s) on ${queue} (${what})`)
          : { check: 'workers', status: 'warn', detail: `no worker polls ${queue} (${what})`, fix: 'ferry start, or ferry worker' },
      );
    }
  } finally {
    await connection.close();
  }
  return out;
}

export async function runDoctor(config: FerryConfig): Promise<DoctorReport> {
  const checks = [...(await postgresChecks(config)), ...(await temporalChecks(config))];
  return { ok: checks.every((c) => c.status !== 'problem'), checks };
}

export function formatDoctor(report: DoctorReport): string {
  const label = { ok: 'ok     ', problem: 'PROBLEM', warn: 'warn   ' };
  return (
    report.checks.map((c) => `${label[c.status]}  ${c.check}: ${c.detail}${c.fix ? `  -> fix: ${c.fix}` : ''}`).join('\n') +
    `\n${report.ok ? 'ferry doctor: no problem found' : 'ferry doctor: problems found (exit 1)'}\n`
  );
}
