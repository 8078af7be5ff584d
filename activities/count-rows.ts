import type { Mapping } from '../src/config.js';
import type { Queryable } from '../src/db/index.js';
import { quoteIdent, quoteTable } from '../src/statements.js';

// From this size on, the planner's estimate is close enough for a progress bar.
const EXACT_COUNT_BELOW = 1_000_000;

/** Source rows a backfill or verify will read (a NULL key is outside the mapping): count(*) for small tables or a --where, else pg_class.reltuples. */
export async function countSourceRows(pool: Queryable, mapping: Mapping, where?: string): Promise<number> {
  if (!where) {
    const { rows } = await pool.query<{ n: number }>(`SELECT greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = to_regclass($1)`, [
      mapping.source.table,
    ]);
    if ((rows[0]?.n ?? 0) >= EXACT_COUNT_BELOW) return Math.round(rows[0]!.n);
  }
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::float8 AS n FROM ${quoteTable(mapping.source.table)} s WHERE s.${quoteIdent(mapping.source.key)} IS NOT NULL${where ? ` AND (${where})` : ''}`,
  );
  return rows[0]!.n;
}
