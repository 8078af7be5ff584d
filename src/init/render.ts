// Turns a Proposal into the text of a ferry.config.ts a person reads and edits.
// Every name from the database goes through lit() in code and comment() in
// comments, so a table called "x\nprocess.exit()" stays text.
import type { ColumnInfo } from './introspect.js';
import type { Proposal, ProposedMapping } from './propose.js';

export interface RenderOptions {
  /** The package the file imports defineConfig from (package.json's name, read at run time). */
  packageName: string;
  /** The command line that wrote the file, quoted in its header. */
  command: string;
  /** YYYY-MM-DD, passed in so the output is reproducible in tests. */
  date: string;
}

// Line terminators (U+2028 and U+2029 end a `//` comment too) and other controls.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/g;
const escapeControl = (s: string) => s.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
/** A string literal: single-quoted, every control character escaped. */
export const lit = (s: string) => `'${escapeControl(s.replace(/\\/g, '\\\\').replace(/'/g, "\\'"))}'`;
/** Text inside a `//` comment: it cannot end the comment early. */
export const comment = (s: string) => escapeControl(s);
const JS_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const prop = (name: string) => (JS_NAME.test(name) ? name : lit(name));
const read = (name: string) => (JS_NAME.test(name) ? `row.${name}` : `row[${lit(name)}]`);

/** The TypeScript type of a column as a transform sees it (the row is JSON from to_jsonb). */
function tsType(c: ColumnInfo): string {
  const t = c.type.replace(/\[\]$/, '');
  let base = 'unknown';
  if (/^(smallint|integer|real|double precision)/.test(t)) base = 'number';
  else if (/^(bigint|numeric)/.test(t))
    base = 'number | string'; // a string when a JS number cannot hold it exactly
  else if (t === 'boolean') base = 'boolean';
  else if (!/^(json|jsonb)$/.test(t)) base = 'string';
  if (c.type.endsWith('[]')) base = `(${base})[]`;
  return c.notNull ? base : `${base} | null`;
}

/** `portal.users` -> `PortalUsers`, unique within the file. */
function typeNames(tables: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const table of tables) {
    if (out.has(table)) continue;
    const base =
      table
        .split(/[^A-Za-z0-9]+/)
        .filter(Boolean)
        .map((w) => w[0]!.toUpperCase() + w.slice(1))
        .join('')
        .replace(/^(\d)/, 'T$1') || 'Table';
    let name = `${base}Row`;
    for (let i = 2; [...out.values()].includes(name); i++) name = `${base}Row${i}`;
    out.set(table, name);
  }
  return out;
}

export function renderConfig(proposal: Proposal, opts: RenderOptions): string {
  const out: string[] = [
    `// Written by \`${comment(opts.command)}\` on ${opts.date}.`,
    '// A starting point: check each mapping (keys, columns, parents), then run',
    '// `ferry migrate --print` to see what Ferry would install.',
  ];
  if (proposal.herokuConnect) {
    out.push(
      `// ${comment(proposal.to)} looks like a Heroku Connect schema: sfid, systemmodstamp and the`,
      "// _hc_* columns are the connector's and never written; deletes flag isdeleted.",
    );
  }
  if (proposal.warnings.length) {
    out.push('//', '// Check:');
    for (const w of proposal.warnings) out.push(`//   - ${comment(w)}`);
  }
  if (proposal.unmatched.length) {
    out.push('//', '// Source tables no target table matched (add --pair SOURCE=TARGET, or a mapping by hand):');
    for (const t of proposal.unmatched) out.push(`//   - ${comment(t)}`);
  }
  const types = typeNames(proposal.mappings.flatMap((m) => [m.source.table, m.target.table]));
  out.push('', `import { defineConfig } from ${lit(opts.packageName)};`, '');
  const declared = new Set<string>();
  for (const m of proposal.mappings)
    for (const [table, columns] of [
      [m.source.table, m.sourceColumns],
      [m.target.table, m.targetColumns],
    ] as const) {
      if (declared.has(table)) continue;
      declared.add(table);
      out.push(`// A row of ${comment(table)}, as the catalog described it.`, `interface ${types.get(table)} {`);
      for (const c of columns) out.push(`  ${prop(c.name)}: ${tsType(c)};`);
      out.push('}', '');
    }
  out.push('export default defineConfig({');
  out.push('  database: { url: process.env.DATABASE_URL! },');
  out.push('  mappings: [');
  for (const m of proposal.mappings) out.push(...renderMapping(m, types), ...renderReverse(m, types, proposal.herokuConnect));
  out.push('  ],', '});', '');
  return out.join('\n');
}

function renderMapping(m: ProposedMapping, types: Map<string, string>): string[] {
  const keyValue = m.keyIsText ? `String(${read(m.source.key)})` : read(m.source.key);
  const lines = [
    '    {',
    `      name: ${lit(m.name)},`,
    `      source: { table: ${lit(m.source.table)}, key: ${lit(m.source.key)} },`,
    ...(m.keyMissing ? [`      // ${comment(m.target.key)} does not exist yet (see "Check" above).`] : []),
    `      target: { table: ${lit(m.target.table)}, key: ${lit(m.target.key)} },`,
    ...m.notes.map((n) => `      // ${comment(n)}`),
    `      transform: (source${m.columns.some((c) => c.parentColumn) ? ', ctx' : ''}) => {`,
    `        const row = source as unknown as ${types.get(m.source.table)};`,
    '        return {',
    `          ${prop(m.target.key)}: ${keyValue},`,
    ...m.columns.map((c) => {
      if (c.relationship)
        return `          ${prop(c.target)}: ${read(c.source)} == null ? null : String(${read(c.source)}), // the parent (${comment(c.relationship)}) by its External ID`;
      if (c.parentColumn)
        return `          ${prop(c.target)}: ctx.parents[${lit(c.source)}]?.[${lit(c.parentColumn)}] ?? null, // the parent's counterpart`;
      return `          ${prop(c.target)}: ${read(c.source)},`;
    }),
    ...(m.softDelete ? [`          ${prop(m.softDelete)}: false,`] : []),
    '        };',
    '      },',
  ];
  if (m.parents.length) {
    lines.push('      parents: [');
    for (const p of m.parents) {
      const why = p.from === 'foreign key' ? 'from a foreign key' : 'guessed from the column name: check it';
      lines.push(`        { mapping: ${lit(p.mapping)}, column: ${lit(p.column)} }, // ${why}`);
    }
    lines.push('      ],');
  }
  lines.push(`      onDelete: ${m.softDelete ? `{ softDelete: ${lit(m.softDelete)} }` : "'delete'"},`, '    },');
  return lines;
}

/**
 * The opposite direction, commented out: two-way sync is a choice the user
 * makes. Every line of it is code behind `// `, so removing that prefix from
 * the block gives a mapping that loads (test/init.int.test.ts does exactly that).
 */
function renderReverse(m: ProposedMapping, types: Map<string, string>, hc: boolean): string[] {
  const [fromSchema, fromTable] = m.source.table.split('.') as [string, string];
  const [toSchema, toTable] = m.target.table.split('.') as [string, string];
  const keyCast = m.keyIsText ? `${read(m.target.key)}` : read(m.target.key);
  const code = [
    '{',
    `  name: ${lit(`${toTable}_to_${fromTable}`)},`,
    `  source: { table: ${lit(m.target.table)}, key: 'id' },`,
    `  target: { table: ${lit(m.source.table)}, key: ${lit(m.source.key)} },`,
    '  transform: (source) => {',
    `    const row = source as unknown as ${types.get(m.target.table)};`,
    ...(hc ? ['    if (row.isdeleted) return null;'] : []),
    '    return {',
    `      ${prop(m.source.key)}: ${keyCast},`,
    ...m.columns.filter((c) => !c.parentColumn && !c.relationship).map((c) => `      ${prop(c.source)}: ${read(c.target)},`),
    '    };',
    '  },',
    `  // A record created in ${comment(toSchema)} gets a new ${comment(`${fromSchema}.${fromTable}`)} row, whose key is written back:`,
    `  link: { writeBack: ${lit(m.target.key)} },`,
    "  onDelete: 'ignore',",
    '},',
  ];
  return [
    `    // The other way, ${comment(m.target.table)} -> ${comment(m.source.table)}, for two-way sync (uncomment and check):`,
    ...code.map((line) => `    // ${line}`),
  ];
}
