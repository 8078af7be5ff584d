import { slotHealth } from '../capture/wal/slot-health.js';
import { Connection } from '@temporalio/client';
import type { FerryConfig } from '../config.js';
import type { Pool } from '../db/index.js';
import type { FerryEvents } from '../events.js';
import { checkHealth, checkLiveness, type HealthDeps, type LivenessDeps } from './health.js';
import { startHttpServer, type HttpServer } from './http.js';
import type { Logger } from '../logger.js';
import { downstreamCounts } from './downstream.js';
import { createMetrics } from './metrics.js';
import { installRuntime } from '../worker/worker.js';
import { connectionOptions } from '../temporal/connection.js';

export interface OpsServerDeps {
  config: FerryConfig;
  logger: Logger;
  pool: Pool;
  events: FerryEvents;
  at: { port: number; host: string };
  /** Whether this process runs a worker: the SDK's own metrics ride along, and /healthz asks for its state. */
  work: boolean;
  /** Whether the listener is up, in a process that runs one. */
  listening?: () => boolean;
  workerState?: HealthDeps['workerState'];
  /** Ferry's own loops, for /livez. */
  loops: LivenessDeps;
}

/**
 * /metrics, /livez and /readyz (/healthz). Started before anything waits for Postgres or
 * Temporal, so an outage at start-up shows as 503 rather than as no answer.
 * Its own lazy Temporal connection: the health check must not wait on the
 * worker's, which may be the thing that is down.
 */
export async function startOpsServer(deps: OpsServerDeps): Promise<{ http: HttpServer; close(): Promise<void> }> {
  const { config, logger, pool, events, listening } = deps;
  const sdkMetricsUrl = deps.work ? await installRuntime(logger, { sdkMetrics: true }) : undefined;
  const temporal = Connection.lazy({ ...connectionOptions(config), connectTimeout: '2s' });
  const http = await startHttpServer({
    ...deps.at,
    metrics: createMetrics({
      pool,
      events,
      listening,
      sdkMetricsUrl,
      downstream: () => downstreamCounts(pool, config),
      ...(config.capture.mode === 'wal' ? { slot: () => slotHealth(pool, config) } : {}),
    }),
    live: () => checkLiveness(deps.loops),
    health: () => checkHealth({ pool, temporal, namespace: config.temporal.namespace, listening, workerState: deps.workerState }),
  });
  logger.info(
    { metrics: `${http.url}/metrics`, health: `${http.url}/healthz`, livez: `${http.url}/livez`, readyz: `${http.url}/readyz` },
    'serving metrics and health',
  );
  return {
    http,
    async close() {
      await http.close();
      await temporal.close().catch(() => {});
    },
  };
}
