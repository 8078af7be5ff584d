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
  /** An SQL condition on the source table (`--where`), e.g. "created_at > now() - interval '1 day'". */
  where?: string;
  /** Repair: only these source keys, instead of a walk of the whole table. */
  keys?: string[];
  /** Repair: target keys whose source is gone; onDelete is applied to them. */
  orphans?: string[];
  /** Carried across continue-as-new. */
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
  /** The last source key read (keyset cursor), or the index into `keys` for a repair. */
  cursor: string | null;
  startedAt: string;
  updatedAt: string;
}

export interface ChunkInput {
  instance: string;
  mapping: string;
  batch: number;
  where?: string;
  /** Keyset cursor: read keys after this one (null: from the start). */
  after: string | null;
  /** Repair: exactly these keys (after and where are ignored). */
  keys?: string[];
  /** The backfill's workflow id, written into each log it carries. */
  workflowId: string;
}

export interface ChunkResult {
  read: number;
  /** The last key read, the next chunk's cursor (null when nothing was read). */
  lastKey: string | null;
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
  countBackfillRows(input: { mapping: string; where?: string; keys?: string[] }): Promise<number>;
  /** Reads the next chunk, writes a backfill log per row, carries them under the sync rules. */
  backfillChunk(input: ChunkInput): Promise<ChunkResult>;
  /** Repair: applies onDelete to target rows whose source is gone; returns rows changed. */
  removeOrphans(input: { mapping: string; keys: string[] }): Promise<number>;
  /** Writes the progress where `ferry status` reads it (ferry.backfill_runs); `failed` when the workflow fails. */
  recordBackfill(workflowId: string, progress: BackfillProgress, state?: BackfillProgress['state'] | 'failed'): Promise<void>;
}
