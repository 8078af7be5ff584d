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
   * instead (`parentColumn`: its sfid in Heroku Connect, else its target key),
   * or, through a Heroku Connect relationship External ID column
   * (`account__portal_org_id__c`), the parent's source key itself (`relationship`).
   */
  columns: { target: string; source: string; parentColumn?: string; relationship?: string }[];
  parents: ProposedParent[];
  /** Said as comments in the mapping: what init could not settle. */
  notes: string[];
  /** The introspected columns, for the row types the file declares. */
  sourceColumns: ColumnInfo[];
  targetColumns: ColumnInfo[];
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
      pairs[source.name] !== undefined
        ? targets.find((t) => t.name === pairs[source.name])
        : (externalIdTarget(opts.from, source, targets, warnings) ?? targets.find((t) => stem(t.name) === stem(source.name)));
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
    const parentSourceOf = (p: ProposedParent) => [...mappingBySource].find(([, m]) => m === p.mapping)![0];
    const parentColumns = new Map(parents.map((p) => [p.column, herokuConnect ? 'sfid' : keys.get(parentSourceOf(p))!.column]));
    // Heroku Connect names a parent by its External ID through a relationship
    // column (`account__portal_org_id__c`): the value is the parent's own key, so
    // the child needs no sfid of the parent, and Salesforce sets the lookup.
    const relationships = new Map<string, string>();
    const notes: string[] = [];
    for (const p of herokuConnect ? parents : []) {
      const parentKey = keys.get(parentSourceOf(p))!.column;
      const parentTarget = matched.find((m) => m.source.name === parentSourceOf(p))!.target.name;
      const rel = target.columns.find((c) => c.name.toLowerCase().endsWith(`__${parentKey.toLowerCase()}`) && c.name.length > parentKey.length + 2);
      if (rel) relationships.set(p.column, rel.name);
      else
        notes.push(
          `${opts.to}.${target.name} has no relationship External ID column for the parent ${p.mapping} ` +
            `(e.g. ${stem(parentTarget)}__r__${parentKey} or ${stem(parentTarget)}__${parentKey}): in Heroku Connect, map the lookup's External ID field to get one; ` +
            "until then only a lookup column can be set, from the parent's sfid (ctx.parents).",
        );
    }
    return [
      {
        name,
        source: { table: `${opts.from}.${source.name}`, key: source.primaryKey! },
        target: { table: `${opts.to}.${target.name}`, key: key.column },
        keyMissing: key.missing,
        keyIsText: keyColumn ? TEXT_TYPE.test(keyColumn.type) : true,
        columns: [
          ...matchColumns(source, target, source.primaryKey!, key.column, herokuConnect, parentColumns).filter(
            (c) => !(c.parentColumn && relationships.has(c.source)) && ![...relationships.values()].includes(c.target),
          ),
          ...[...relationships].map(([column, rel]) => ({
            target: rel,
            source: column,
            relationship: parents.find((p) => p.column === column)!.mapping,
          })),
        ],
        parents,
        notes,
        sourceColumns: source.columns,
        targetColumns: target.columns,
        ...(softDelete ? { softDelete } : {}),
      },
    ];
  });
  return { from: opts.from, to: opts.to, herokuConnect, mappings, unmatched, warnings };
}

/**
 * The target table with an External ID column that names this source table:
 * `portal_user_id__c` (or `portal_users_id__c`) for portal.users, else a
 * unique `user_id__c`. A relationship column (`account__portal_org_id__c`)
 * names a parent, never the table itself. Two equally good targets pair none.
 */
function externalIdTarget(from: string, source: TableInfo, targets: TableInfo[], warnings: string[]): TableInfo | undefined {
  const full = [`${normalizeName(from)}${stem(source.name)}id`, `${normalizeName(from)}${normalizeName(source.name)}id`];
  const short = `${stem(source.name)}id`;
  const score = (t: TableInfo) =>
    Math.max(
      0,
      ...t.columns
        .filter((c) => /__c$/i.test(c.name) && !c.name.slice(0, -3).includes('__'))
        .map((c) => {
          const unique = t.uniqueColumns.includes(c.name) ? 1 : 0;
          if (full.includes(normalizeName(c.name))) return 2 + unique;
          return normalizeName(c.name) === short && unique ? 1 : 0;
        }),
    );
  const scored = targets.map((t) => ({ t, s: score(t) })).filter((x) => x.s > 0);
  const best = Math.max(0, ...scored.map((x) => x.s));
  const top = scored.filter((x) => x.s === best);
  if (top.length > 1) {
    warnings.push(`${from}.${source.name}: External ID columns in ${top.map((x) => x.t.name).join(' and ')} both name it; pair one with --pair`);
    return undefined;
  }
  return top[0]?.t;
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
