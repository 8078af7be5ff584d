// Shapes that cross the activity/workflow boundary: ids and names, never row data.
import type { BackoffPolicy } from './backoff.js';

/** What a syncLog workflow is started with. */
export interface SyncLogInput {
  /** The deployment the log belongs to (config `instance`); a worker of another instance refuses it. */
  instance: string;
  logId: number;
  mapping: string;
  table: string;
}

/**
 * The parent a child row is waiting for, as the activities find it. Its key
 * is row data: it stays in the worker and the log row (waiting_key), and what
 * a workflow gets is a WaitedParent.
 */
export interface MissingParent {
  mapping: string;
  /** The parent mapping's source table. */
  table: string;
  /** The child's column that holds the parent's key. */
  column: string;
  key: string;
  /** A pending log of that parent row, when there is one. */
  logId: number | null;
}

/** A row up a chain of waits, with its newest pending log (null: none). */
export interface WaitLink {
  mapping: string;
  key: string;
  logId: number | null;
}

/** The parent a child waits for, as its workflow (and so its history) holds it: names and log ids, no key. */
export interface WaitedParent {
  mapping: string;
  /** The parent mapping's source table. */
  table: string;
  /** The child's column that holds the parent's key. */
  column: string;
  /** A pending log of that parent row, when there is one. */
  logId: number | null;
  /**
   * The parent's own wait, when it waits too: the row its pending log waits
   * for, then that row's wait, and so on up the chain (`ferry logs` shows their keys).
   */
  chain?: { mapping: string; logId: number | null }[];
}

/** What of a missing parent, and the chain of waits above it, may reach a workflow. */
export function waitedParent(parent: MissingParent, chain: WaitLink[] = []): WaitedParent {
  const { mapping, table, column, logId } = parent;
  return { mapping, table, column, logId, ...(chain.length ? { chain: chain.map((l) => ({ mapping: l.mapping, logId: l.logId })) } : {}) };
}

/**
 * Why a child failed whose required parent never came. With `key` for the
 * log row; without it for the workflow's failure, which history keeps.
 */
export function parentNeverCame(child: string, parent: { mapping: string; column: string }, attempts: number, key?: string): string {
  const which = key === undefined ? '' : ` with key ${key}`;
  return `${child}: parent ${parent.mapping}${which} (column ${parent.column}) is not in its target after ${attempts} attempts`;
}

export type FinalStatus = 'synced' | 'skipped' | 'failed';

/** A log that reached a final status. */
export interface FinalResult {
  status: FinalStatus;
  /** What happened, in a few words ("upserted", "superseded by 42", ...). */
  detail: string;
  /** The log was already final when this run looked (a second dispatch). */
  already: boolean;
  /** Logs waiting for this row as their parent: their workflows get a wake-up. */
  waiters: number[];
  /** When the change was captured (ISO), for commit-to-synced latency. */
  createdAt?: string;
}

/** A log whose parent is not in its target yet. */
export interface WaitingResult {
  status: 'waiting_parent';
  parent: WaitedParent;
  /** Attempts so far, including this one. */
  attempts: number;
  /** `missingParent` from the config as it is now. */
  policy: BackoffPolicy;
}

export type ApplyResult = FinalResult | WaitingResult;

/** What a syncBatch carries: logs claimed under its workflow id, first and last by id. */
export interface SyncBatchInput {
  instance: string;
  first: number;
  last: number;
  logIds: number[];
}

/** A chunk's outcome: counts, the logs that left it for their own syncLog, and the logs waiting for its rows. */
export interface BatchResult {
  synced: number;
  skipped: number;
  /** The same counts per mapping (metrics and logs count syncs per mapping). */
  byMapping: Record<string, { synced: number; skipped: number }>;
  leftover: SyncLogInput[];
  waiters: number[];
}
