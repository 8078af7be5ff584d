// Reads what `ferry init` needs of two schemas from the catalog: tables,
// columns, primary keys, single-column unique indexes and foreign keys.
import type { Pool } from 'pg';

export interface ColumnInfo {
  name: string;
  /** Postgres type as format_type() prints it, e.g. "text", "varchar(18)", "integer". */
  type: string;
  notNull: boolean;
}

export interface ForeignKey {
  /** The referencing column (single-column keys only). */
  column: string;
  /** Referenced table, schema-qualified. */
  refTable: string;
  refColumn: string;
}

export interface TableInfo {
  schema: string;
  name: string;
  columns: ColumnInfo[];
  /** Single-column primary key, when there is one. */
  primaryKey?: string;
  /** Columns with a unique index or constraint on that column alone (no predicate). */
  uniqueColumns: string[];
  foreignKeys: ForeignKey[];
}

export async function introspectSchema(pool: Pool, schema: string): Promise<TableInfo[]> {
  const tables = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
    [schema],
  );
  const columns = await pool.query<{ table: string; name: string; type: string; not_null: boolean }>(
    `SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY c.relname, a.attnum`,
    [schema],
  );
  const indexes = await pool.query<{ table: string; column: string; primary: boolean }>(
    `SELECT c.relname AS table, a.attname AS column, i.indisprimary AS primary
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE n.nspname = $1 AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL`,
    [schema],
  );
  const fks = await pool.query<{ table: string; column: string; ref_table: string; ref_column: string }>(
    `SELECT c.relname AS table, a.attname AS column, rn.nspname || '.' || rc.relname AS ref_table, ra.attname AS ref_column
       FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_class rc ON rc.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
       JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
       JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1]
      WHERE n.nspname = $1 AND k.contype = 'f' AND array_length(k.conkey, 1) = 1`,
    [schema],
  );
  return tables.rows.map(({ name }) => {
    const own = indexes.rows.filter((i) => i.table === name);
    return {
      schema,
      name,
      columns: columns.rows.filter((c) => c.table === name).map((c) => ({ name: c.name, type: c.type, notNull: c.not_null })),
      primaryKey: own.find((i) => i.primary)?.column,
      uniqueColumns: [...new Set(own.map((i) => i.column))],
      foreignKeys: fks.rows.filter((f) => f.table === name).map((f) => ({ column: f.column, refTable: f.ref_table, refColumn: f.ref_column })),
    };
  });
}
