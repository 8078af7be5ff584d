// ferry.backfill_inputs (sql/012): a backfill's --where, repair keys, orphan
// keys and cursor, referenced by the run id that is all its workflow carries.
import type { PgClient, Queryable } from './pool.js';

export interface BackfillInputs {
  workflowId: string;
  mapping: string;
  where?: string;
  /** Source keys to carry; undefined: walk the whole table. */
  keys?: string[];
  orphans?: string[];
}

/** Saves a run's inputs; returns the run id its workflow is started with. */
export async function save(db: Queryable, inputs: BackfillInputs): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO ferry.backfill_inputs (workflow_id, mapping, where_sql, repair_keys, orphan_keys)
     VALUES ($1, $2, $3, $4::text[], $5::text[]) RETURNING id`,
    [inputs.workflowId, inputs.mapping, inputs.where ?? null, inputs.keys ?? null, inputs.orphans ?? []],
  );
  return Number(rows[0]!.id);
}

/** One chunk's share of a run: its --where, its slice of repair keys, and the cursor it starts after. */
export interface ChunkInputs {
  mapping: string;
  where?: string;
  /** Repair: this chunk's keys (empty past the end); undefined for a walk. */
  keys?: string[];
  /** Repair: whether keys remain after this chunk's slice. */
  moreKeys: boolean;
  /** Walk: read keys after this one (null: from the start). */
  after: string | null;
  /** The chunk number the row is at: the chunk asked for, or the one after it when that chunk already advanced it. */
  chunk: number;
}

/** Reads chunk `chunk` of a run (`batch` keys each); undefined when the run has no row. */
export async function chunk(db: PgClient, runId: number, chunk: number, batch: number): Promise<ChunkInputs | undefined> {
  const { rows } = await db.query(
    `SELECT mapping, where_sql, chunk, cursor, prev_cursor, cardinality(repair_keys) AS total,
            repair_keys[$2::int * $3::int + 1 : ($2::int + 1) * $3::int] AS keys
       FROM ferry.backfill_inputs WHERE id = $1`,
    [runId, chunk, batch],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    mapping: r.mapping,
    where: r.where_sql ?? undefined,
    keys: r.total === null ? undefined : (r.keys ?? []),
    moreKeys: r.total !== null && (chunk + 1) * batch < r.total,
    after: r.chunk === chunk + 1 ? r.prev_cursor : r.cursor,
    chunk: r.chunk,
  };
}

/** A run's --where and whether it is a repair (how many keys), for counting. */
export async function scope(db: Queryable, runId: number): Promise<{ mapping: string; where?: string; keys: number | null } | undefined> {
  const { rows } = await db.query(`SELECT mapping, where_sql, cardinality(repair_keys) AS keys FROM ferry.backfill_inputs WHERE id = $1`, [runId]);
  const r = rows[0];
  return r && { mapping: r.mapping, where: r.where_sql ?? undefined, keys: r.keys };
}

/** A run's orphan keys. */
export async function orphans(db: Queryable, runId: number): Promise<{ mapping: string; keys: string[] } | undefined> {
  const { rows } = await db.query(`SELECT mapping, orphan_keys FROM ferry.backfill_inputs WHERE id = $1`, [runId]);
  return rows[0] && { mapping: rows[0].mapping, keys: rows[0].orphan_keys };
}

/** Chunk `chunk` is done, its last key `last`: the next chunk reads after it. A chunk run again moves nothing. */
export async function advance(db: Queryable, runId: number, chunk: number, last: string | null): Promise<void> {
  await db.query(
    `UPDATE ferry.backfill_inputs SET prev_cursor = cursor, cursor = coalesce($3, cursor), chunk = $2 + 1 WHERE id = $1 AND chunk = $2`,
    [runId, chunk, last],
  );
}

/** The cursor of a run, for `ferry status` (ferry.backfill_runs keeps the last known one). */
export async function cursorOf(db: Queryable, runId: number): Promise<string | null> {
  const { rows } = await db.query<{ cursor: string | null }>(`SELECT cursor FROM ferry.backfill_inputs WHERE id = $1`, [runId]);
  return rows[0]?.cursor ?? null;
}

/** A run that ended leaves no keys behind. */
export async function remove(db: Queryable, runId: number): Promise<void> {
  await db.query(`DELETE FROM ferry.backfill_inputs WHERE id = $1`, [runId]);
}
