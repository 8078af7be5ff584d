// SQL of `ferry verify`: keyset walks and the set-based comparison. Table
// aliases start with ferry_: a bare name is a column first, and a whole-row
// reference must not meet a column of that name.
import type { Mapping } from '../config.js';
import { quoteIdent, quoteTable, type Statement } from '../statements.js';

/** The next chunk of source rows after the cursor, in key order, as jsonb; a row whose key is NULL is outside the mapping. */
export function sourceChunkStatement(mapping: Mapping, after: string | null, limit: number): Statement {
  const key = quoteIdent(mapping.source.key);
  return {
    text:
      `SELECT ferry_s.${key}::text AS k, to_jsonb(ferry_s) AS row FROM ${quoteTable(mapping.source.table)} ferry_s ` +
      `WHERE ferry_s.${key} IS NOT NULL ${after === null ? '' : `AND ferry_s.${key} > $2 `}ORDER BY ferry_s.${key} LIMIT $1`,
    values: after === null ? [limit] : [limit, after],
  };
}

/** Rows of a table whose key is one of these values, as jsonb (parents of a chunk). */
export function rowsByKeysStatement(table: string, key: string, values: string[]): Statement {
  return {
    text: `SELECT ferry_t.${quoteIdent(key)}::text AS k, to_jsonb(ferry_t) AS row FROM ${quoteTable(table)} ferry_t WHERE ferry_t.${quoteIdent(key)} = ANY($1)`,
    values: [values],
  };
}

/**
 * Each wanted row (a transform's output) next to the target row with its key.
 * Both sides pass through the target table's row type, so values compare as
 * the upsert would write them ('12' and 12.00 in a numeric column are equal).
 * $1: jsonb array of { i, out }.
 */
export function compareStatement(mapping: Mapping, wanted: { i: number; out: Record<string, unknown> }[]): Statement {
  const table = quoteTable(mapping.target.table);
  const key = quoteIdent(mapping.target.key);
  return {
    text: `
      WITH want AS (
        SELECT w.i, jsonb_populate_record(NULL::${table}, w.out) AS r
          FROM jsonb_to_recordset($1::jsonb) AS w(i int, out jsonb)
      )
      SELECT want.i, (want.r).${key}::text AS target_key, to_jsonb(want.r) AS want, to_jsonb(ferry_t) AS have
        FROM want LEFT JOIN ${table} ferry_t ON ferry_t.${key} = (want.r).${key}`,
    values: [JSON.stringify(wanted)],
  };
}

/** The next chunk of target keys (and the soft-delete flag), for orphans. */
export function targetChunkStatement(mapping: Mapping, after: string | null, limit: number): Statement {
  const key = quoteIdent(mapping.target.key);
  const flag = typeof mapping.onDelete === 'object' ? `t.${quoteIdent(mapping.onDelete.softDelete)} IS TRUE` : 'false';
  return {
    text:
      `SELECT t.${key}::text AS k, ${flag} AS deleted FROM ${quoteTable(mapping.target.table)} t ` +
      `WHERE t.${key} IS NOT NULL${after === null ? '' : ` AND t.${key} > $2`} ORDER BY t.${key} LIMIT $1`,
    values: after === null ? [limit] : [limit, after],
  };
}
