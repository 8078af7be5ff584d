// ferry.optional_waits (sql/004): children written without an optional
// parent that was not in its target yet, to be carried again when it is.
import type { Queryable } from './pool.js';

/** Replaces what a child row waits for optionally (none: it waits for nothing). */
export async function replaceOptionalWaits(
  db: Queryable,
  child: { mapping: string; rowKey: string },
  parents: readonly { mapping: string; key: string }[],
): Promise<void> {
  await db.query(`DELETE FROM ferry.optional_waits WHERE mapping = $1 AND row_key = $2`, [child.mapping, child.rowKey]);
  if (parents.length === 0) return;
  await db.query(
    `INSERT INTO ferry.optional_waits (parent_mapping, parent_key, mapping, row_key)
     SELECT p.mapping, p.key, $3, $4 FROM unnest($1::text[], $2::text[]) AS p (mapping, key)
     ON CONFLICT DO NOTHING`,
    [parents.map((p) => p.mapping), parents.map((p) => p.key), child.mapping, child.rowKey],
  );
}

/** The children that waited for this parent row, forgotten as they are returned. */
export async function takeOptionalWaiters(db: Queryable, parentMapping: string, parentKey: string): Promise<{ mapping: string; row_key: string }[]> {
  const { rows } = await db.query<{ mapping: string; row_key: string }>(
    `DELETE FROM ferry.optional_waits WHERE parent_mapping = $1 AND parent_key = $2 RETURNING mapping, row_key`,
    [parentMapping, parentKey],
  );
  return rows;
}
