// ferry.optional_waits (sql/004): children written without an optional
// parent that was not in its target yet, to be carried again when it is.
import type { Queryable } from './pool.js';

export interface OptionalWaits {
  /** The child row, of `mapping`. */
  rowKey: string;
  /** The optional parents it was written without (none: it waits for nothing). */
  parents: readonly { mapping: string; key: string }[];
}

/**
 * Replaces what these child rows of one mapping wait for optionally, in two
 * statements whatever their number (a chunk's rows, or a single sync's one).
 */
export async function replaceOptionalWaits(db: Queryable, mapping: string, children: readonly OptionalWaits[]): Promise<void> {
  if (children.length === 0) return;
  await db.query(`DELETE FROM ferry.optional_waits WHERE mapping = $1 AND row_key = ANY($2::text[])`, [mapping, children.map((c) => c.rowKey)]);
  const waits = children.flatMap((c) => c.parents.map((p) => [p.mapping, p.key, c.rowKey] as const));
  if (waits.length === 0) return;
  await db.query(
    `INSERT INTO ferry.optional_waits (parent_mapping, parent_key, mapping, row_key)
     SELECT p.mapping, p.key, $4, p.row_key FROM unnest($1::text[], $2::text[], $3::text[]) AS p (mapping, key, row_key)
     ON CONFLICT DO NOTHING`,
    [waits.map((w) => w[0]), waits.map((w) => w[1]), waits.map((w) => w[2]), mapping],
  );
}

/** The children that waited for these parent rows (one mapping's keys), forgotten as they are returned. */
export async function takeOptionalWaiters(
  db: Queryable,
  parentMapping: string,
  parentKeys: readonly string[],
): Promise<{ parent_key: string; mapping: string; row_key: string }[]> {
  if (parentKeys.length === 0) return [];
  const { rows } = await db.query<{ parent_key: string; mapping: string; row_key: string }>(
    `DELETE FROM ferry.optional_waits WHERE parent_mapping = $1 AND parent_key = ANY($2::text[]) RETURNING parent_key, mapping, row_key`,
    [parentMapping, parentKeys],
  );
  return rows;
}
