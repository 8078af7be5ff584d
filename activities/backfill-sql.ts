// SQL a backfill runs, built from the config. Values travel as parameters,
// names are quoted; `where` is the operator's own SQL (`--where`), checked by
// the CLI before any workflow starts.
import type { Mapping } from '../src/config.js';
import { quoteIdent, quoteTable, type Statement } from '../src/statements.js';

export interface ChunkSpec {
  after: string | null;
  keys?: string[];
  where?: string;
  limit: number;
  workflowId: string;
}

/**
 * Reads the next chunk of source keys (keyset: key > cursor, in key order)
 * and writes one backfill log per row, in one statement. A row that has a
 * pending captured change gets no backfill log: that change carries it (live
 * changes win). Returns the rows read, the last key, and the new log ids.
 * Backfill logs are stamped as dispatched by this workflow, so the
 * dispatcher leaves them alone (the stale sweep picks them up if the
 * workflow vanished before carrying them).
 */
export function backfillChunkStatement(mapping: Mapping, spec: ChunkSpec): Statement {
  const key = quoteIdent(mapping.source.key);
  const values: unknown[] = [mapping.name, mapping.source.table, spec.workflowId, spec.limit];
  // A row whose key is NULL is outside the mapping: no log, and not a row of the backfill.
  const conditions: string[] = [`s.${key} IS NOT NULL`];
  if (spec.keys) {
    values.push(spec.keys);
    conditions.push(`s.${key} = ANY($${values.length})`);
  } else {
    if (spec.after !== null) {
      values.push(spec.after);
      conditions.push(`s.${key} > $${values.length}`);
    }
    if (spec.where) conditions.push(`(${spec.where})`);
  }
  const text = `
    WITH chunk AS (
      SELECT s.${key} AS k, s.${key}::text AS row_key FROM ${quoteTable(mapping.source.table)} s
       WHERE ${conditions.join(' AND ')}
       ORDER BY s.${key} LIMIT $4
    ), logged AS (
      INSERT INTO ferry.database_trigger_log (mapping, table_name, op, row_key, kind, dispatched_at, workflow_id)
      SELECT $1, $2, 'UPDATE', c.row_key, 'backfill', now(), $3 FROM chunk c
       WHERE NOT EXISTS (SELECT 1 FROM ferry.database_trigger_log l
                          WHERE l.mapping = $1 AND l.row_key = c.row_key AND l.status = 'pending' AND l.kind = 'change')
       ORDER BY c.k
      RETURNING id
    )
    SELECT (SELECT count(*) FROM chunk)::int AS read,
           (SELECT row_key FROM chunk ORDER BY k DESC LIMIT 1) AS last_key,
           (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM logged) AS ids`;
  return { text, values };
}
