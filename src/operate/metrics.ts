import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { logTable, type Pool } from '../db/index.js';
import type { FerryEvents } from '../events.js';
import type { DownstreamCounts } from './downstream.js';
import { FERRY_VERSION } from '../version.js';
import type { SlotHealth } from '../capture/wal/slot-health.js';

export interface MetricsDeps {
  pool: Pool;
  events: FerryEvents;
  /** Whether this process's listener is LISTENing; undefined in a process that does not listen. */
  listening?: () => boolean;
  /** Target rows by downstream state, per mapping with target.downstream (queried on scrape). */
  downstream?: () => Promise<DownstreamCounts[]>;
  /** The Temporal SDK's own Prometheus endpoint (worker processes), appended to every scrape. */
  sdkMetricsUrl?: string;
  /** WAL mode: the replication slot's health (queried on scrape). */
  slot?: () => Promise<SlotHealth>;
}

export interface Metrics {
  contentType: string;
  /** The exposition text: Ferry's metrics, Node's process metrics and the SDK's worker metrics. */
  render(): Promise<string>;
}

// Commit-to-synced latency: a healthy sync takes well under a second, a
// sync that waited for a parent can take minutes or hours.
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600];

/** Ferry's Prometheus metrics, fed by FerryEvents and, for the pending gauge, a query on scrape. */
export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  new Gauge({
    name: 'ferry_pending_logs',
    help: 'Logs with status pending, per mapping (queried on scrape)',
    labelNames: ['mapping'],
    registers: [registry],
    async collect() {
      this.reset();
      // Reads the partial index of pending logs; a database outage shows as no samples, and in /healthz.
      const rows = await logTable.pendingByMapping(deps.pool).catch(() => []);
      for (const r of rows) this.set({ mapping: r.mapping }, r.n);
    },
  });
  if (deps.downstream) {
    const downstream = deps.downstream;
    new Gauge({
      name: 'ferry_downstream_rows',
      help: "Target rows of mappings with target.downstream, per mapping and the far side's state (delivered, pending, rejected); queried on scrape",
      labelNames: ['mapping', 'state'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const c of await downstream().catch(() => []))
          for (const state of ['delivered', 'pending', 'rejected'] as const) this.set({ mapping: c.mapping, state }, c[state]);
      },
    });
  }
  // What `ferry status` alerts on, so an alert rule can say the same.
  const fromLog = (name: string, help: string, read: (pool: Pool) => Promise<number>) =>
    new Gauge({
      name,
      help: `${help} (queried on scrape)`,
      registers: [registry],
      async collect() {
        const value = await read(deps.pool).catch(() => undefined);
        if (value !== undefined) this.set(value);
      },
    });
  fromLog('ferry_oldest_pending_seconds', 'Age of the oldest pending log, 0 when none', logTable.oldestPendingSeconds);
  fromLog('ferry_failed_logs', 'Logs with status failed: each needs a person', logTable.failedTotal);
  if (deps.slot) {
    // WAL mode: what holding the slot back costs the server, and Postgres' verdict on it.
    const slot = deps.slot;
    let last: Promise<SlotHealth | undefined> | undefined;
    const health = () => (last ??= slot().catch(() => undefined)).finally(() => setImmediate(() => (last = undefined)));
    new Gauge({
      name: 'ferry_wal_slot_lag_bytes',
      help: "Bytes of WAL the replication slot holds back: the server's position minus what Ferry confirmed (queried on scrape)",
      registers: [registry],
      async collect() {
        const h = await health();
        if (h?.lagBytes != null) this.set(h.lagBytes);
      },
    });
    new Gauge({
      name: 'ferry_wal_slot_status',
      help: "1 for the replication slot's wal_status (reserved, extended, unreserved, lost), or missing; 'warning' is 1 past capture.slotLagWarning (queried on scrape)",
      labelNames: ['wal_status'],
      registers: [registry],
      async collect() {
        this.reset();
        const h = await health();
        if (!h) return;
        this.set({ wal_status: h.exists ? (h.walStatus ?? 'unknown') : 'missing' }, 1);
        this.set({ wal_status: 'warning' }, h.problem ? 1 : 0);
      },
    });
  }
  new Gauge({
    name: 'ferry_build_info',
    help: 'Always 1; the running Ferry and Node versions as labels',
    labelNames: ['version', 'node'],
    registers: [registry],
  }).set({ version: FERRY_VERSION, node: process.versions.node }, 1);
  const syncs = new Counter({
    name: 'ferry_syncs_total',
    help: 'Logs that reached a final status in this worker, per mapping and status (synced, skipped, failed)',
    labelNames: ['mapping', 'status'],
    registers: [registry],
  });
  const waits = new Counter({
    name: 'ferry_parent_waits_total',
    help: 'Times a sync found its parent missing and started a durable wait, per mapping',
    labelNames: ['mapping'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'ferry_activity_errors_total',
    help: 'Activity attempts that threw, per mapping, activity and whether Temporal retries them',
    labelNames: ['mapping', 'activity', 'retryable'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'ferry_sync_latency_seconds',
    help: 'From the source transaction capturing a change to its log being synced',
    labelNames: ['mapping'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const reconnects = new Counter({
    name: 'ferry_listener_reconnects_total',
    help: 'Times the listener lost its Postgres connection and reconnected',
    registers: [registry],
  });
  const sweeps = new Counter({
    name: 'ferry_sweeps_total',
    help: 'Sweeper rounds for pending logs without a workflow, per reason (start, interval, reconnect)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const dispatched = new Counter({
    name: 'ferry_dispatched_logs_total',
    help: 'Logs handed to a workflow; carrier "log" = their own syncLog, "batch" = a syncBatch',
    labelNames: ['carrier'],
    registers: [registry],
  });
  const released = new Counter({
    name: 'ferry_claims_released_total',
    help: "Claims a sweep gave back to the queue: a dead dispatcher's, or older than listener.redispatchAfter",
    registers: [registry],
  });
  const dispatchFailures = new Counter({
    name: 'ferry_dispatch_failures_total',
    help: 'Logs whose workflow could not be started (Temporal down); they go back to the queue',
    registers: [registry],
  });
  if (deps.listening) {
    const listening = deps.listening;
    new Gauge({
      name: 'ferry_listener_up',
      help: '1 while the listener is LISTENing on Postgres, else 0',
      registers: [registry],
      collect() {
        this.set(listening() ? 1 : 0);
      },
    });
  }

  const unknown = (m: string | undefined) => m ?? 'unknown';
  deps.events.on('syncDone', (e) => {
    if (e.already) return; // a second run of a finished log: counted the first time
    syncs.inc({ mapping: unknown(e.mapping), status: e.status });
    if (e.latencyMs !== undefined) latency.observe({ mapping: unknown(e.mapping) }, e.latencyMs / 1000);
  });
  deps.events.on('chunkDone', (e) => {
    for (const [mapping, n] of Object.entries(e.byMapping)) {
      if (n.synced) syncs.inc({ mapping, status: 'synced' }, n.synced);
      if (n.skipped) syncs.inc({ mapping, status: 'skipped' }, n.skipped);
    }
  });
  deps.events.on('syncWaiting', (e) => waits.inc({ mapping: unknown(e.mapping) }));
  deps.events.on('syncError', (e) => errors.inc({ mapping: unknown(e.mapping), activity: e.activity, retryable: String(e.retryable) }));
  deps.events.on('listenerReconnecting', () => reconnects.inc());
  deps.events.on('swept', (e) => sweeps.inc({ reason: e.reason }));
  deps.events.on('dispatched', (e) => dispatched.inc({ carrier: e.carrier }, e.count));
  deps.events.on('claimsReleased', (e) => released.inc(e.count));
  deps.events.on('dispatchFailed', (e) => dispatchFailures.inc(e.count));

  return {
    contentType: registry.contentType,
    async render() {
      const own = await registry.metrics();
      if (!deps.sdkMetricsUrl) return own;
      try {
        const res = await fetch(deps.sdkMetricsUrl, { signal: AbortSignal.timeout(2000) });
        return `${own}\n${await res.text()}`;
      } catch (err) {
        return `${own}\n# Temporal SDK metrics unavailable: ${(err as Error).message}\n`;
      }
    },
  };
}
