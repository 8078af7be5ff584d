// SQL text that Ferry builds from config. Pure functions, unit-tested; values
// always travel as parameters, names are always quoted.
import { parseTable } from './table-name.js';

export interface Statement {
  text: string;
  values: unknown[];
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** "portal.users" -> "portal"."users"; '"My Schema"."T"' (the canonical text, see table-name.ts) -> the same, quoted. */
export function quoteTable(qualified: string): string {
  const table = parseTable(qualified);
  if (!table) throw new Error(`not a schema-qualified table: ${JSON.stringify(qualified)}`);
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * A row as one JSON document, for jsonb_populate_record: Postgres then reads
 * each value as its column's type (arrays, jsonb, bytea, timestamps...).
 * Bytes travel as bytea's hex text, bigints as their digits.
 */
export function rowJson(row: Record<string, unknown>): string {
  return JSON.stringify(row, function (this: Record<string, unknown>, key, value) {
    const raw = this[key];
    if (raw instanceof Uint8Array) return `\\x${Buffer.from(raw).toString('hex')}`;
    return typeof value === 'bigint' ? value.toString() : value;
  });
}

/** `SELECT r."a", r."b" FROM jsonb_populate_record(NULL::table, $n) r`: the row's values, typed as the table's columns. */
function typedRow(table: string, quotedColumns: string[], placeholder: string): string {
  return `SELECT ${quotedColumns.map((c) => `r.${c}`).join(', ')} FROM jsonb_populate_record(NULL::${quoteTable(table)}, ${placeholder}::jsonb) r`;
}

/**
 * Insert-or-update of exactly the columns `row` holds, matched on `key`.
 * Columns the row does not name keep their values; an update that would
 * change nothing is not made (no dead tuple, no trigger firing).
 */
export function upsertStatement(table: string, key: string, row: Record<string, unknown>): Statement {
  const columns = Object.keys(row);
  if (!columns.includes(key)) throw new Error(`row has no value for the target key "${key}"`);
  const names = columns.map(quoteIdent);
  const rest = columns.filter((c) => c !== key).map(quoteIdent);
  const onConflict = rest.length
    ? `DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}` +
      ` WHERE ROW(${rest.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM ROW(${rest.map((c) => `EXCLUDED.${c}`).join(', ')})`
    : 'DO NOTHING';
  return {
    text:
      `INSERT INTO ${quoteTable(table)} AS t (${names.join(', ')}) ${typedRow(table, names, '$1')} ` +
      `ON CONFLICT (${quoteIdent(key)}) ${onConflict}`,
    values: [rowJson(row)],
  };
}

export function deleteStatement(table: string, key: string, keyValue: unknown): Statement {
  return { text: `DELETE FROM ${quoteTable(table)} WHERE ${quoteIdent(key)} = $1`, values: [keyValue] };
}

export function softDeleteStatement(table: string, key: string, keyValue: unknown, flag: string): Statement {
  return {
    text: `UPDATE ${quoteTable(table)} SET ${quoteIdent(flag)} = true WHERE ${quoteIdent(key)} = $1 AND ${quoteIdent(flag)} IS DISTINCT FROM true`,
    values: [keyValue],
  };
}

/** The current row with this key, as jsonb (null when there is none). */
export function selectRowStatement(table: string, key: string, keyValue: unknown): Statement {
  return { text: `SELECT to_jsonb(t) AS row FROM ${quoteTable(table)} t WHERE ${quoteIdent(key)} = $1`, values: [keyValue] };
}

export interface TriggerMapping {
  name: string;
  key: string;
  target: string;
}

/** Ferry's triggers on a source table: one per event (transition tables need that), plus the TRUNCATE guard. */
export const TRIGGER_NAMES = ['ferry_log_insert', 'ferry_log_update', 'ferry_log_delete', 'ferry_refuse_truncate'] as const;

/**
 * The statements that put Ferry's statement-level triggers on a source table.
 * Their arguments: the NOTIFY channel ('' in poll mode), then every mapping
 * that reads the table as (mapping, key, target) triples.
 */
export function createTriggerStatements(table: string, mappings: TriggerMapping[], channel: string): string[] {
  const args = [channel, ...mappings.flatMap((m) => [m.name, m.key, m.target])].map(quoteLiteral).join(', ');
  const on = quoteTable(table);
  const capture = (name: string, event: string, referencing: string) =>
    `CREATE OR REPLACE TRIGGER ${name} AFTER ${event} ON ${on} REFERENCING ${referencing} ` +
    `FOR EACH STATEMENT EXECUTE FUNCTION ferry.capture(${args})`;
  return [
    capture('ferry_log_insert', 'INSERT', 'NEW TABLE AS ferry_new'),
    capture('ferry_log_update', 'UPDATE', 'OLD TABLE AS ferry_old NEW TABLE AS ferry_new'),
    capture('ferry_log_delete', 'DELETE', 'OLD TABLE AS ferry_old'),
    `CREATE OR REPLACE TRIGGER ferry_refuse_truncate BEFORE TRUNCATE ON ${on} FOR EACH STATEMENT EXECUTE FUNCTION ferry.refuse_truncate()`,
  ];
}

export function dropTriggerStatements(table: string): string[] {
  return TRIGGER_NAMES.map((name) => `DROP TRIGGER IF EXISTS ${name} ON ${quoteTable(table)}`);
}

/** Linking: insert a target row without its key, letting the database generate it. */
export function insertReturningKeyStatement(table: string, key: string, row: Record<string, unknown>): Statement {
  const columns = Object.keys(row).filter((c) => c !== key);
  const names = columns.map(quoteIdent);
  return {
    text: columns.length
      ? `INSERT INTO ${quoteTable(table)} (${names.join(', ')}) ${typedRow(table, names, '$1')} RETURNING ${quoteIdent(key)} AS key`
      : `INSERT INTO ${quoteTable(table)} DEFAULT VALUES RETURNING ${quoteIdent(key)} AS key`,
    values: columns.length ? [rowJson(row)] : [],
  };
}

/** Linking: the generated key goes back into the origin row. */
export function writeBackStatement(table: string, key: string, keyValue: unknown, column: string, value: unknown): Statement {
  return { text: `UPDATE ${quoteTable(table)} SET ${quoteIdent(column)} = $2 WHERE ${quoteIdent(key)} = $1`, values: [keyValue, value] };
}
