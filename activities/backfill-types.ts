// Shapes that cross the boundary between the backfill workflow and its
// activities. Ids, names and counts only: row data never enters history.
import type { SyncLogInput } from './types.js';

export interface BackfillInput {
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
  /** Logs that must wait for a parent or failed: each gets its own syncLog. */
  handOff: SyncLogInput[];
}
