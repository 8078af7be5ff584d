// The backfill workflow's surface: its input, its query `progress`, and the
// activities it calls. Ids, names and counts only: row data never enters history.
import { defineQuery } from '@temporalio/workflow';
import type { SyncLogInput } from './sync-types.js';

/** Workflow type of a mapping's backfill (id: backfillWorkflowId). */
export const BACKFILL_WORKFLOW = 'backfill';

export interface BackfillInput {
  /** The deployment (config `instance`): names the workflow and the syncLogs it hands rows to. */
  instance: string;
  mapping: string;
  /** The mapping's source table (for the FerryTable search attribute). */
  table: string;
  /** Rows per chunk; each chunk is one activity. */
  batch: number;
  /**
   * The run's row in ferry.backfill_inputs (sql/012), which holds what is not
   * an id: the --where, the repair and orphan keys, and the keyset cursor.
   */
  runId?: number;
  /** Runs started before ferry.backfill_inputs carried these here; they are read only from such runs. */
  where?: string;
  /** As `where`: repair keys of a run started before ferry.backfill_inputs. */
  keys?: string[];
  /** As `where`: orphan keys of a run started before ferry.backfill_inputs. */
  orphans?: string[];
  /** Carried across continue-as-new (counts, no key). */
  progress?: BackfillProgress;
}

export interface BackfillProgress {
  mapping: string;
  state: 'counting' | 'running' | 'done' | 'cancelled';
  /** Source rows read so far. */
  rowsDone: number;
  /** Estimated rows to read (pg_class.reltuples for big tables, else count(*)). */
  rowsTotal: number;
  /** Of the rows read: carried to the target (upserted, linked, or already equal). */
  carried: number;
  /** Left to a pending live change of the same row, superseded by one, or skipped by the transform. */
  skipped: number;
  /** Handed to their own syncLog workflow: waiting for a parent, or failed. */
  handedOff: number;
  /** Repair: orphaned target rows onDelete was applied to. */
  orphansRemoved: number;
  /** Rows per second since the start. */
  rate: number;
  /**
   * A run started before ferry.backfill_inputs: the last source key read, or
   * the index into `keys`. Null for a run with `runId`: its cursor is in its row.
   */
  cursor: string | null;
  /** Chunks done (a run with `runId`: the chunk number its activities read the row at). */
  chunks?: number;
  startedAt: string;
  updatedAt: string;
}

export interface ChunkInput {
  instance: string;
  mapping: string;
  batch: number;
  /** The run's row in ferry.backfill_inputs: the chunk reads its --where, keys and cursor there. */
  runId?: number;
  /** With `runId`: which chunk of the run this is. */
  chunk?: number;
  /** Without `runId` (a run started before ferry.backfill_inputs): its --where. */
  where?: string;
  /** Without `runId`: read keys after this one (null: from the start). */
  after: string | null;
  /** Without `runId`, a repair: exactly these keys (after and where are ignored). */
  keys?: string[];
  /** The backfill's workflow id, written into each log it carries. */
  workflowId: string;
}

export interface ChunkResult {
  read: number;
  /** Without `runId`: the last key read, the next chunk's cursor (null when nothing was read). With `runId`: null. */
  lastKey: string | null;
  /** With `runId`: whether this was the run's last chunk. */
  done?: boolean;
  carried: number;
  skipped: number;
  /** Carried and skipped logs per mapping (the chunk's own; a tree's pulled-in parents may add others). */
  byMapping: Record<string, { synced: number; skipped: number }>;
  /** Logs that must wait for a parent or failed: each gets its own syncLog. */
  handOff: SyncLogInput[];
  /** Logs that waited for a row this chunk carried: their workflows get a wake-up. */
  waiters: number[];
}

/** Query `progress` of a backfill: rows done, rows total (estimated), rate, cursor. */
export const progressQuery = defineQuery<BackfillProgress>('progress');

export interface BackfillActivities {
  /** Source rows a backfill will read (estimated for big tables without --where). */
  countBackfillRows(input: { mapping: string; runId?: number; where?: string; keys?: string[] }): Promise<number>;
  /** Reads the next chunk, writes a backfill log per row, carries them under the sync rules. */
  backfillChunk(input: ChunkInput): Promise<ChunkResult>;
  /** Repair: applies onDelete to target rows whose source is gone; returns rows changed. */
  removeOrphans(input: { mapping: string; runId?: number; keys?: string[] }): Promise<number>;
  /**
   * Writes the progress where `ferry status` reads it (ferry.backfill_runs); `failed` when the workflow fails.
   * With `runId`, a run that ended leaves no row in ferry.backfill_inputs.
   */
  recordBackfill(workflowId: string, progress: BackfillProgress, state?: BackfillProgress['state'] | 'failed', runId?: number): Promise<void>;
}
