import { EventEmitter } from 'node:events';
import type { WaitedParent } from './contract/index.js';

/** Names every line and metric about one sync carries. */
export interface SyncRef {
  logId: number;
  /** Undefined only when the log row could not be read (database down). */
  mapping: string | undefined;
  workflowId: string | undefined;
}

/** What operators care about, as named events; logs and metrics hang off these. */
export interface FerryEventMap {
  /** Workflows started (or found already running) for claimed logs. */
  dispatched: [{ count: number; carrier: 'log' | 'batch' }];
  /** A sweep gave back claims no live dispatcher stands behind (a killed process', or older than listener.redispatchAfter). */
  claimsReleased: [{ count: number }];
  /** A dispatch round failed; its logs go back to the queue. */
  dispatchFailed: [{ error: Error; count: number }];
  /** The sweeper looked for pending logs no workflow carries (start-up, reconnect, every sweepInterval). */
  swept: [{ reason: 'start' | 'interval' | 'reconnect' }];
  /** The listener's connection is up and LISTENing (first time or after a reconnect). */
  listenerConnected: [];
  /** WAL mode: the replication slot was invalidated (it held more WAL than max_slot_wal_keep_size); capture stopped. */
  walSlotLost: [{ slot: string; error: string }];
  /** The listener lost its connection and tries again. */
  listenerReconnecting: [{ attempt: number }];
  /**
   * A log reached its final status in this worker. `already`: a second run
   * found it final (nothing was written, nothing to count again).
   * `latencyMs`: from the change's capture to now, for synced logs.
   */
  /** A batch or backfill chunk carried many logs in one transaction: counts per mapping (no line per log). */
  chunkDone: [{ workflowId?: string; activity: string; byMapping: Record<string, { synced: number; skipped: number }>; leftover: number }];
  syncDone: [SyncRef & { status: 'synced' | 'skipped' | 'failed'; detail: string; already: boolean; latencyMs?: number }];
  /** The log's parent is not in its target yet; the workflow waits on a durable timer. */
  syncWaiting: [SyncRef & { parent: WaitedParent; attempts: number }];
  /** An activity threw. Retryable errors are retried by Temporal; the others fail the log next. */
  syncError: [SyncRef & { activity: string; attempt: number; retryable: boolean; error: string }];
}

export class FerryEvents extends EventEmitter<FerryEventMap> {}
