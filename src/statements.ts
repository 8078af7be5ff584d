// SQL text that Ferry builds from config. Pure functions, unit-tested; values
// always travel as parameters, names are always quoted.
import { createHash } from 'node:crypto';
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
  return {
    text: `INSERT INTO ${quoteTable(table)} AS t (${names.join(', ')}) ${typedRow(table, names, '$1')} ` + onConflictUpdate(key, columns),
    values: [rowJson(row)],
  };
}

/** The other columns take the new values, unless they hold them already (no dead tuple, no trigger firing). */
function onConflictUpdate(key: string, columns: string[]): string {
  const rest = columns.filter((c) => c !== key).map(quoteIdent);
  if (!rest.length) return `ON CONFLICT (${quoteIdent(key)}) DO NOTHING`;
  return (
    `ON CONFLICT (${quoteIdent(key)}) DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}` +
    ` WHERE ROW(${rest.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM ROW(${rest.map((c) => `EXCLUDED.${c}`).join(', ')})`
  );
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
  // ferry_t: a bare name is a column first, so a table alias must be no column's name (a column "t" was read as the row).
  return { text: `SELECT to_jsonb(ferry_t) AS row FROM ${quoteTable(table)} ferry_t WHERE ferry_t.${quoteIdent(key)} = $1`, values: [keyValue] };
}

export interface TriggerMapping {
  name: string;
  key: string;
  target: string;
}

/** Ferry's triggers on a source table: one per event (transition tables need that), plus the TRUNCATE guard. */
export const TRIGGER_NAMES = ['ferry_log_insert', 'ferry_log_update', 'ferry_log_delete', 'ferry_refuse_truncate'] as const;

/**
 * The capture function of one source table (sql/007): `ferry.capture_<table>_<hash>`,
 * readable in `\df ferry.*`, unique per table (the hash of its schema and name)
 * and a valid identifier whatever the table is called.
 */
export function captureFunctionName(table: string): string {
  const t = parseTable(table);
  if (!t) throw new Error(`not a schema-qualified table: ${JSON.stringify(table)}`);
  const slug = `${t.schema}_${t.name}`
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .slice(0, 40);
  const hash = createHash('md5').update(`${t.schema}\u0000${t.name}`).digest('hex').slice(0, 8);
  return `ferry.${quoteIdent(`capture_${slug}_${hash}`)}`;
}

/**
 * The body of a table's capture function: static SQL, one INSERT ... SELECT per
 * mapping and event, so PL/pgSQL plans each once per session instead of
 * planning a dynamic statement on every write (what sql/003's generic
 * ferry.capture() did). Same rules as before (docs/capture.md).
 */
export function captureBody(mappings: TriggerMapping[], channel: string, logTable: string): string {
  const notify = channel !== '';
  const log = `INSERT INTO ${logTable}`;
  const count = notify ? '\n      GET DIAGNOSTICS ferry_count = ROW_COUNT;\n      ferry_logged := ferry_logged + ferry_count;' : '';
  // Echo suppression: a mapping whose target is among ferry.origin logs nothing
  // (ferry_origin is set only in the runtime role's sessions, see below).
  const each = (m: TriggerMapping, sql: string) =>
    `    IF ferry_origin IS NULL OR NOT (${quoteLiteral(m.target)} = ANY (ferry_origin)) THEN\n      ${sql};${count}\n    END IF;`;
  const insert = mappings.map((m) =>
    each(
      m,
      `${log} (mapping, table_name, op, row_key)\n      SELECT ${quoteLiteral(m.name)}, ferry_src, 'INSERT', ferry_n.${quoteIdent(m.key)}::text FROM ferry_new ferry_n WHERE ferry_n.${quoteIdent(m.key)} IS NOT NULL`,
    ),
  );
  const del = mappings.map((m) =>
    each(
      m,
      `${log} (mapping, table_name, op, row_key, old_row)\n      SELECT ${quoteLiteral(m.name)}, ferry_src, 'DELETE', ferry_o.${quoteIdent(m.key)}::text, to_jsonb(ferry_o) FROM ferry_old ferry_o WHERE ferry_o.${quoteIdent(m.key)} IS NOT NULL`,
    ),
  );
  // A row whose key is NULL is outside its mapping (Heroku Connect's sfid
  // before Salesforce accepts it, an External ID on a record made there): it
  // is not logged, and the app's write succeeds. An UPDATE that gives it a
  // key logs an INSERT of that key; one that takes the key away, a DELETE of
  // the old key.
  // Old and new tables hold a statement's rows in the same order (Postgres
  // appends each row's old and new version together), so position pairs them
  // even when the key changed. OFFSET 0 keeps the pairs a subquery of their
  // own: each row's image is built once, not once per output row. Aliases
  // start with ferry_: a whole-row reference must not meet a column of that name.
  const update = mappings.map((m) =>
    each(
      m,
      `${log} (mapping, table_name, op, row_key, old_row)
      SELECT ${quoteLiteral(m.name)}, ferry_src, ferry_c.op, ferry_c.row_key, CASE WHEN ferry_c.op <> 'INSERT' THEN ferry_p.img END
        FROM (SELECT o.pos, to_jsonb(o.rec) AS img, (o.rec).${quoteIdent(m.key)}::text AS old_key, (n.rec).${quoteIdent(m.key)}::text AS new_key
                FROM (SELECT row_number() OVER () AS pos, ferry_o AS rec FROM ferry_old ferry_o) o
                JOIN (SELECT row_number() OVER () AS pos, ferry_n AS rec FROM ferry_new ferry_n) n USING (pos)
               WHERE NOT (o.rec *= n.rec) OFFSET 0) ferry_p
       CROSS JOIN LATERAL (VALUES (1, 'DELETE', ferry_p.old_key),
                                  (2, CASE WHEN ferry_p.old_key IS NULL THEN 'INSERT' ELSE 'UPDATE' END, ferry_p.new_key)) ferry_c (step, op, row_key)
       WHERE ferry_c.row_key IS NOT NULL AND (ferry_c.step = 2 OR ferry_p.old_key IS DISTINCT FROM ferry_p.new_key)
       ORDER BY ferry_p.pos, ferry_c.step`,
    ),
  );
  const wake = notify
    ? `
  -- Notify mode: only a transaction that finds no other transaction's log
  -- waiting to be dispatched sends a NOTIFY, once per transaction and channel
  -- (README "Capture"); the payload is empty.
  IF ferry_logged > 0 AND current_setting('ferry.woke', true) IS DISTINCT FROM ${quoteLiteral(channel)} THEN
    PERFORM set_config('ferry.woke', ${quoteLiteral(channel)}, true);
    IF NOT EXISTS (SELECT 1 FROM ${logTable}
                    WHERE status = 'pending' AND dispatched_at IS NULL AND txid <> txid_current()) THEN
      PERFORM pg_notify(${quoteLiteral(channel)}, '');
    END IF;
  END IF;`
    : '';
  return `
-- Ferry's capture (sql/007), written by \`ferry migrate\` from the config.
DECLARE
  -- Any session may set ferry.origin: only a role that may update the log
  -- (Ferry's runtime role, its owner, a superuser) is believed, so an app role
  -- cannot hide its writes with it (docs/trust-boundary.md).
  ferry_origin text[] := CASE WHEN nullif(current_setting('ferry.origin', true), '') IS NOT NULL
                               AND has_table_privilege(session_user, ${quoteLiteral(logTable)}, 'UPDATE')
                              THEN string_to_array(current_setting('ferry.origin', true), ',') END;
  ferry_src    text   := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;${notify ? '\n  ferry_logged bigint := 0;\n  ferry_count  bigint;' : ''}
BEGIN
  IF TG_OP = 'INSERT' THEN
${insert.join('\n')}
  ELSIF TG_OP = 'DELETE' THEN
${del.join('\n')}
  ELSE
${update.join('\n')}
  END IF;${wake}
  RETURN NULL;
END
`;
}

/** A dollar-quote tag that the body does not contain (names from the config could). */
function dollarQuote(body: string): string {
  let tag = '$ferry$';
  for (let i = 1; body.includes(tag); i++) tag = `$ferry${i}$`;
  return `${tag}${body}${tag}`;
}

/**
 * The statements that put Ferry's capture on a source table: its capture
 * function (the mappings that read the table and the NOTIFY channel, '' in
 * poll mode, are written into it), then one statement-level trigger per event
 * (transition tables need that), plus the TRUNCATE guard. `logTable` is
 * another log only for the bench (bench/capture-floor.ts), which prices each
 * part of the log on copies of it.
 */
export function createTriggerStatements(
  table: string,
  mappings: TriggerMapping[],
  channel: string,
  logTable = 'ferry.database_trigger_log',
): string[] {
  const on = quoteTable(table);
  const fn = captureFunctionName(table);
  const capture = (name: string, event: string, referencing: string) =>
    `CREATE OR REPLACE TRIGGER ${name} AFTER ${event} ON ${on} REFERENCING ${referencing} ` + `FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`;
  return [
    // SECURITY DEFINER: the capture writes the log with its owner's rights, so
    // app roles need no right in schema ferry; search_path pinned against
    // objects an app role could put in front of pg_catalog's.
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp ` +
      `AS ${dollarQuote(captureBody(mappings, channel, logTable))}`,
    capture('ferry_log_insert', 'INSERT', 'NEW TABLE AS ferry_new'),
    capture('ferry_log_update', 'UPDATE', 'OLD TABLE AS ferry_old NEW TABLE AS ferry_new'),
    capture('ferry_log_delete', 'DELETE', 'OLD TABLE AS ferry_old'),
    truncateGuardStatement(table),
    // A trigger fires its function whatever EXECUTE says; nobody calls it directly.
    `REVOKE EXECUTE ON FUNCTION ${fn}() FROM PUBLIC`,
  ];
}

/** The TRUNCATE guard of a captured table (sql/003); run again, it changes nothing but takes the table's lock against writes. */
export function truncateGuardStatement(table: string): string {
  return `CREATE OR REPLACE TRIGGER ferry_refuse_truncate BEFORE TRUNCATE ON ${quoteTable(table)} FOR EACH STATEMENT EXECUTE FUNCTION ferry.refuse_truncate()`;
}

export function dropTriggerStatements(table: string): string[] {
  return [
    ...TRIGGER_NAMES.map((name) => `DROP TRIGGER IF EXISTS ${name} ON ${quoteTable(table)}`),
    `DROP FUNCTION IF EXISTS ${captureFunctionName(table)}()`,
  ];
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

/**
 * The rows with these keys, each with its key as the log writes it (jsonb
 * text), for a chunk of changes read at once. `$1` is a text array the
 * server reads as the key column's type.
 */
export function selectRowsStatement(table: string, key: string, keyValues: string[], opts: { version?: boolean } = {}): Statement {
  return {
    // LATERAL: each row's jsonb is built once, not once for the key and again
    // for the row. Aliases start with ferry_: a whole-row reference must not meet a column of that name.
    text:
      `SELECT ferry_j ->> ${quoteLiteral(key)} AS key, ferry_j AS row${opts.version ? `, ${ROW_VERSION} AS version` : ''} ` +
      `FROM ${quoteTable(table)} ferry_t, LATERAL to_jsonb(ferry_t) ferry_j WHERE ferry_t.${quoteIdent(key)} = ANY($1)`,
    values: [keyValues],
  };
}

// A row version's identity: any write of a row makes a new version, with its
// own xmin and place (ctid); a moved but unchanged row (VACUUM FULL) only
// looks changed, which costs its reader one more read.
const ROW_VERSION = `ferry_t.xmin::text || ':' || ferry_t.ctid::text`;

/**
 * The version of each row with these keys (see selectRowsStatement, with
 * `version`), keyed as there: what a reader that holds the rows checks to
 * know whether they are still as it read them, without reading them again.
 */
export function selectRowVersionsStatement(table: string, key: string, keyValues: string[]): Statement {
  return {
    text: `SELECT to_jsonb(ferry_t.${quoteIdent(key)}) #>> '{}' AS key, ${ROW_VERSION} AS version FROM ${quoteTable(table)} ferry_t WHERE ferry_t.${quoteIdent(key)} = ANY($1)`,
    values: [keyValues],
  };
}

/**
 * upsertStatement for many rows with the same columns, in one statement: the
 * rows travel as one JSON array (rowJson each), read as the table's own row type. Keys must
 * be distinct (one row may be written once per statement).
 */
export function upsertManyStatement(table: string, key: string, columns: string[], rows: Record<string, unknown>[]): Statement {
  if (!columns.includes(key)) throw new Error(`rows have no value for the target key "${key}"`);
  const names = columns.map(quoteIdent);
  return {
    text:
      `INSERT INTO ${quoteTable(table)} AS t (${names.join(', ')}) ` +
      `SELECT ${names.join(', ')} FROM jsonb_populate_recordset(NULL::${quoteTable(table)}, $1::jsonb) ` +
      onConflictUpdate(key, columns),
    values: [`[${rows.map((row) => rowJson(Object.fromEntries(columns.map((c) => [c, row[c]])))).join(',')}]`],
  };
}
