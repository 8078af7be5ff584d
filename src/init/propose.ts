// What `ferry init` proposes from two schemas: pure, so it is unit-tested on
// hand-made schemas and integration-tested on real ones.
import type { ColumnInfo, TableInfo } from './introspect.js';

export interface ProposedParent {
  mapping: string;
  column: string;
  /** How it was found: a foreign key, or only the column's name (`user_id` -> users). */
  from: 'foreign key' | 'column name';
}

export interface ProposedMapping {
  name: string;
  source: { table: string; key: string };
  target: { table: string; key: string };
  /** The target key column does not exist or is not unique yet: the user must add it. */
  keyMissing: boolean;
  /** Whether the target key holds text (the source key is then passed through String()). */
  keyIsText: boolean;
  /**
   * Target column <- source column, names matched case- and `__c`-insensitively.
   * A source column that references a parent carries the parent's counterpart
   * instead (`parentColumn`: its sfid in Heroku Connect, else its target key).
   */
  columns: { target: string; source: string; parentColumn?: string }[];
  parents: ProposedParent[];
  /** Heroku Connect keeps deleted records flagged: onDelete softDelete on this column. */
  softDelete?: string;
}

export interface Proposal {
  from: string;
  to: string;
  herokuConnect: boolean;
  mappings: ProposedMapping[];
  /** Source tables no target matched, said in the file so nothing is silently dropped. */
  unmatched: string[];
  warnings: string[];
}

export interface ProposeOptions {
  from: string;
  to: string;
  source: TableInfo[];
  target: TableInfo[];
  /** Explicit source=target table pairs (`--pair users=account`); they win over name matching. */
  pairs?: Record<string, string>;
}

// Columns Heroku Connect manages itself: never written by a mapping.
const HC_COLUMNS = new Set(['sfid', 'systemmodstamp', '_hc_lastop', '_hc_err']);
const TEXT_TYPE = /^(text|character varying|varchar|character|char|citext)/;

/** "Email__c" -> "email", "full_name" -> "fullname": how columns and tables are compared. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/__c$/, '').replace(/[\s_]/g, '');
}

/** A rough singular, enough to match "users" with "user" and "categories" with "category". */
export function singular(name: string): string {
  if (name.endsWith('ies')) return `${name.slice(0, -3)}y`;
  if (name.endsWith('sses')) return name.slice(0, -2);
  if (name.endsWith('s') && !name.endsWith('ss')) return name.slice(0, -1);
  return name;
}

const stem = (table: string) => singular(normalizeName(table));

/** Heroku Connect's schema: its bookkeeping tables, or sfid and _hc_lastop columns. */
export function isHerokuConnect(tables: TableInfo[]): boolean {
  return tables.some((t) => t.name === '_trigger_log' || t.columns.some((c) => c.name === '_hc_lastop') || t.columns.some((c) => c.name === 'sfid'));
}

export function proposeConfig(opts: ProposeOptions): Proposal {
  const herokuConnect = isHerokuConnect(opts.target);
  const targets = opts.target.filter((t) => !t.name.startsWith('_')); // _trigger_log, _trigger_log_archive, _sf_event_log
  const warnings: string[] = [];
  const pairs = opts.pairs ?? {};
  for (const [src, tgt] of Object.entries(pairs)) {
    if (!opts.source.some((t) => t.name === src)) warnings.push(`--pair ${src}=${tgt}: no table ${opts.from}.${src}`);
    if (!targets.some((t) => t.name === tgt)) warnings.push(`--pair ${src}=${tgt}: no table ${opts.to}.${tgt}`);
  }

  const matched: { source: TableInfo; target: TableInfo }[] = [];
  const unmatched: string[] = [];
  for (const source of opts.source) {
    const target =
      pairs[source.name] !== undefined ? targets.find((t) => t.name === pairs[source.name]) : targets.find((t) => stem(t.name) === stem(source.name));
    if (target) matched.push({ source, target });
    else unmatched.push(`${opts.from}.${source.name}`);
  }

  const nameOf = (source: TableInfo, target: TableInfo) => `${source.name}_to_${target.name}`.replace(/[^A-Za-z0-9_.-]/g, '_');
  const mappingBySource = new Map(matched.map((m) => [m.source.name, nameOf(m.source, m.target)]));

  for (const { source } of matched)
    if (!source.primaryKey) {
      warnings.push(`${opts.from}.${source.name} has no single-column primary key: no mapping proposed (a source key must identify a row)`);
      mappingBySource.delete(source.name);
    }
  const keys = new Map(matched.map(({ source, target }) => [source.name, chooseTargetKey(opts.from, source, target, herokuConnect)]));

  const mappings = matched.flatMap(({ source, target }): ProposedMapping[] => {
    const name = nameOf(source, target);
    if (!mappingBySource.has(source.name)) return [];
    const key = keys.get(source.name)!;
    if (key.missing) {
      warnings.push(
        `${name}: ${opts.to}.${target.name} has no unique column that identifies a ${opts.from}.${source.name} row; ` +
          `add "${key.column}"${herokuConnect ? ' as a Salesforce External ID field (Heroku Connect then indexes it)' : ''}, ` +
          `e.g. CREATE UNIQUE INDEX ON ${opts.to}.${target.name} (${key.column})`,
      );
    } else if (herokuConnect) {
      warnings.push(
        `${name}: matches on ${opts.to}.${target.name}.${key.column}; in Salesforce it must be an External ID field (unique), ` +
          'so that Heroku Connect keeps a unique index on it',
      );
    }
    const keyColumn = target.columns.find((c) => c.name === key.column);
    const softDelete = herokuConnect && target.columns.some((c) => c.name === 'isdeleted') ? 'isdeleted' : undefined;
    const parents = findParents(source, opts.source, mappingBySource);
    // What a parent column carries into the target: the parent's counterpart there.
    const parentColumns = new Map(
      parents.map((p) => {
        const parentSource = [...mappingBySource].find(([, m]) => m === p.mapping)![0];
        return [p.column, herokuConnect ? 'sfid' : keys.get(parentSource)!.column];
      }),
    );
    return [
      {
        name,
        source: { table: `${opts.from}.${source.name}`, key: source.primaryKey! },
        target: { table: `${opts.to}.${target.name}`, key: key.column },
        keyMissing: key.missing,
        keyIsText: keyColumn ? TEXT_TYPE.test(keyColumn.type) : true,
        columns: matchColumns(source, target, source.primaryKey!, key.column, herokuConnect, parentColumns),
        parents,
        ...(softDelete ? { softDelete } : {}),
      },
    ];
  });
  return { from: opts.from, to: opts.to, herokuConnect, mappings, unmatched, warnings };
}

/**
 * The target column that identifies the source row: a unique column naming the
 * source (portal_user_id__c for portal.users), else a unique External-ID-like
 * `__c` column, else the same primary key name for a plain copy. Heroku
 * Connect's own `id` and `sfid` never qualify: Salesforce assigns them.
 */
function chooseTargetKey(from: string, source: TableInfo, target: TableInfo, hc: boolean): { column: string; missing: boolean } {
  const candidates = target.uniqueColumns.filter((c) => c !== 'sfid' && !(hc && c === target.primaryKey));
  const mentions = [`${stem(source.name)}id`, `${normalizeName(from)}id`];
  const named = candidates.find((c) => mentions.some((m) => normalizeName(c).includes(m)));
  if (named) return { column: named, missing: false };
  const external = candidates.find((c) => c.toLowerCase().endsWith('__c'));
  if (external) return { column: external, missing: false };
  if (!hc && target.primaryKey && target.primaryKey === source.primaryKey) return { column: target.primaryKey, missing: false };
  const proposed = `${from}_${singular(source.name)}_id${hc ? '__c' : ''}`.toLowerCase();
  return { column: proposed, missing: true };
}

function matchColumns(
  source: TableInfo,
  target: TableInfo,
  sourceKey: string,
  targetKey: string,
  hc: boolean,
  parentColumns: Map<string, string>,
): ProposedMapping['columns'] {
  const out: ProposedMapping['columns'] = [];
  for (const column of target.columns) {
    if (column.name === targetKey || skipTargetColumn(column, target, hc)) continue;
    // "account_id" matches Heroku Connect's "accountid" (and "account"), through the parent.
    const match = source.columns.find(
      (s) => s.name !== sourceKey && [normalizeName(s.name), normalizeName(s.name.replace(/_id$/i, ''))].includes(normalizeName(column.name)),
    );
    if (!match) continue;
    const parentColumn = parentColumns.get(match.name);
    if (parentColumn) out.push({ target: column.name, source: match.name, parentColumn });
    else if (normalizeName(match.name) === normalizeName(column.name)) out.push({ target: column.name, source: match.name });
  }
  return out;
}

function skipTargetColumn(column: ColumnInfo, target: TableInfo, hc: boolean): boolean {
  if (column.name === target.primaryKey) return true; // generated by the target's database (or the connector)
  return hc && (HC_COLUMNS.has(column.name) || column.name === 'isdeleted');
}

/** Parents from foreign keys to other mapped source tables, else from `<table>_id` column names. */
function findParents(source: TableInfo, all: TableInfo[], mappingBySource: Map<string, string>): ProposedParent[] {
  const parents: ProposedParent[] = [];
  for (const fk of source.foreignKeys) {
    // A parent reference holds the parent's source key: its primary key.
    const ref = all.find((t) => `${t.schema}.${t.name}` === fk.refTable && t.primaryKey === fk.refColumn);
    const mapping = ref && mappingBySource.get(ref.name);
    if (mapping) parents.push({ mapping, column: fk.column, from: 'foreign key' });
  }
  for (const column of source.columns) {
    if (parents.some((p) => p.column === column.name) || column.name === source.primaryKey) continue;
    const m = /^(.+)_id$/i.exec(column.name);
    if (!m) continue;
    const ref = [...mappingBySource.keys()].find((t) => stem(t) === stem(m[1]!));
    if (ref && !source.foreignKeys.some((fk) => fk.column === column.name))
      parents.push({ mapping: mappingBySource.get(ref)!, column: column.name, from: 'column name' });
  }
  return parents;
}
