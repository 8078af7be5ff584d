// SQL a backfill runs, built from the config. Values travel as parameters,
// names are quoted; `where` is the operator's own SQL (`--where`), checked
// by the CLI and again by the activity, and run only in the READ ONLY
// transaction that reads a chunk's keys, never in the statement that writes.
import type { Mapping } from '../src/config.js';
import { quoteIdent, quoteTable, type Statement } from '../src/statements.js';

export interface ChunkSpec {
  after: string | null;
  keys?: string[];
  where?: string;
  limit: number;
}

/**
 * The next chunk's source keys as text, in key order: keyset (key > cursor,
 * under --where), or exactly the repair keys that still have a row.
 */
export function chunkKeysStatement(mapping: Mapping, spec: ChunkSpec): Statement {
  const key = quoteIdent(mapping.source.key);
  const values: unknown[] = [spec.limit];
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
  const text = `SELECT s.${key}::text AS row_key FROM ${quoteTable(mapping.source.table)} s
     WHERE ${conditions.join(' AND ')} ORDER BY s.${key} LIMIT $1`;
  return { text, values };
}

/**
 * One backfill log per key read, in key order. A row that has a pending
 * captured change gets no backfill log: that change carries it (live changes
 * win). Backfill logs are stamped as dispatched by this workflow, so the
 * dispatcher leaves them alone (the stale sweep picks them up if the
 * workflow vanished before carrying them). Returns the new log ids.
 */
export function backfillLogsStatement(mapping: Mapping, rowKeys: string[], workflowId: string): Statement {
  const text = `
    WITH logged AS (
      INSERT INTO ferry.database_trigger_log (mapping, table_name, op, row_key, kind, dispatched_at, workflow_id)
      SELECT $1, $2, 'UPDATE', c.row_key, 'backfill', now(), $3 FROM unnest($4::text[]) WITH ORDINALITY AS c (row_key, n)
       WHERE NOT EXISTS (SELECT 1 FROM ferry.database_trigger_log l
                          WHERE l.mapping = $1 AND l.row_key = c.row_key AND l.status = 'pending' AND l.kind = 'change')
       ORDER BY c.n
      RETURNING id
    )
    SELECT coalesce(array_agg(id ORDER BY id), '{}') AS ids FROM logged`;
  return { text, values: [mapping.name, mapping.source.table, workflowId, rowKeys] };
}
