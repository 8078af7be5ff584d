import type { Connection } from '@temporalio/client';
import type { Pool } from '../db/index.js';

export interface HealthCheck {
  ok: boolean;
  /** What was seen: "up", or why not. */
  detail: string;
}

/** The body of /readyz (and /livez): `down` names what is not working. */
export interface HealthReport {
  ok: boolean;
  down: string[];
  checks: Record<string, HealthCheck>;
}

export interface HealthDeps {
  pool: Pool;
  /** A lazily connecting client connection: it reconnects by itself after an outage. */
  temporal: Connection;
  namespace: string;
  /** In a process that listens: whether the listener is LISTENing now. */
  listening?: () => boolean;
  /** In a process that runs a worker: its state (RUNNING when polling). */
  workerState?: () => string | undefined;
}

const TIMEOUT_MS = 2000;

function withTimeout<T>(what: string, p: Promise<T>): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref()),
  ]);
}

/** Up or down, in fixed words: a probe's error text (hosts, users, SQL) is for the logs, not for an open port. */
async function probe(fn: () => Promise<unknown>): Promise<HealthCheck> {
  try {
    await fn();
    return { ok: true, detail: 'up' };
  } catch (err) {
    return { ok: false, detail: /no answer within/.test((err as Error).message) ? 'no answer within 2s' : 'not answering' };
  }
}

/** /readyz: whether Postgres and Temporal answer and this process's listener and worker are working. */
export async function checkHealth(deps: HealthDeps): Promise<HealthReport> {
  const [postgres, temporal] = await Promise.all([
    probe(() => withTimeout('postgres', deps.pool.query('SELECT 1'))),
    // describeNamespace, not just a ping: a server without Ferry's namespace is of no use.
    probe(() =>
      deps.temporal.withDeadline(Date.now() + TIMEOUT_MS, () => deps.temporal.workflowService.describeNamespace({ namespace: deps.namespace })),
    ),
  ]);
  const checks: Record<string, HealthCheck> = { postgres, temporal };
  if (deps.listening) {
    const up = deps.listening();
    checks.listener = { ok: up, detail: up ? 'listening' : 'not listening (starting or reconnecting)' };
  }
  if (deps.workerState) {
    const state = deps.workerState() ?? 'not created yet';
    checks.worker = { ok: state === 'RUNNING', detail: state };
  }
  const down = Object.entries(checks)
    .filter(([, c]) => !c.ok)
    .map(([name]) => name);
  return { ok: down.length === 0, down, checks };
}

/** What /livez asks of this process: its own loops, never Postgres or Temporal (an outage must not restart it). */
export interface LivenessDeps {
  /** In a process that runs a worker: whether its supervising loop still runs (it outlives every outage). */
  workerLoop?: () => boolean;
  /** In a process that listens: whether the listener's loop still runs. */
  listenerLoop?: () => boolean;
}

export function checkLiveness(deps: LivenessDeps): HealthReport {
  const checks: Record<string, HealthCheck> = {};
  for (const [name, alive] of [
    ['worker', deps.workerLoop],
    ['listener', deps.listenerLoop],
  ] as const) {
    if (!alive) continue;
    const up = alive();
    checks[name] = { ok: up, detail: up ? 'running' : 'stopped' };
  }
  const down = Object.entries(checks)
    .filter(([, c]) => !c.ok)
    .map(([name]) => name);
  return { ok: down.length === 0, down, checks };
}
