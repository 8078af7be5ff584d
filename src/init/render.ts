// Turns a Proposal into the text of a ferry.config.ts a person reads and edits.
import type { Proposal, ProposedMapping } from './propose.js';

export interface RenderOptions {
  /** The database URL the file falls back to when DATABASE_URL is unset. */
  databaseUrl: string;
  /** The command line that wrote the file, quoted in its header. */
  command: string;
  /** YYYY-MM-DD, passed in so the output is reproducible in tests. */
  date: string;
}

const JS_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const prop = (name: string) => (JS_NAME.test(name) ? name : JSON.stringify(name));
const read = (name: string) => (JS_NAME.test(name) ? `row.${name}` : `row[${JSON.stringify(name)}]`);
const str = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function renderConfig(proposal: Proposal, opts: RenderOptions): string {
  const out: string[] = [
    `// Written by \`${opts.command}\` on ${opts.date}.`,
    '// A starting point: check each mapping (keys, columns, parents), then run',
    '// `ferry migrate --print` to see what Ferry would install. A plain object is a',
    '// valid config; Ferry validates it when it loads.',
  ];
  if (proposal.herokuConnect) {
    out.push(
      `// ${proposal.to} looks like a Heroku Connect schema: sfid, systemmodstamp and the`,
      "// _hc_* columns are the connector's and never written; deletes flag isdeleted.",
    );
  }
  if (proposal.warnings.length) {
    out.push('//', '// Check:');
    for (const w of proposal.warnings) out.push(`//   - ${w}`);
  }
  if (proposal.unmatched.length) {
    out.push('//', '// Source tables no target table matched (add --pair SOURCE=TARGET, or a mapping by hand):');
    for (const t of proposal.unmatched) out.push(`//   - ${t}`);
  }
  out.push('', 'type Row = Record<string, any>;', '', 'export default {');
  out.push(`  database: { url: process.env.DATABASE_URL ?? ${str(opts.databaseUrl)} },`);
  out.push('  mappings: [');
  for (const m of proposal.mappings) out.push(...renderMapping(m), ...renderReverse(m, proposal.herokuConnect));
  out.push('  ],', '};', '');
  return out.join('\n');
}

function renderMapping(m: ProposedMapping): string[] {
  const keyValue = m.keyIsText ? `String(${read(m.source.key)})` : read(m.source.key);
  const lines = [
    '    {',
    `      name: ${str(m.name)},`,
    `      source: { table: ${str(m.source.table)}, key: ${str(m.source.key)} },`,
    ...(m.keyMissing ? [`      // ${m.target.key} does not exist yet (see "Check" above).`] : []),
    `      target: { table: ${str(m.target.table)}, key: ${str(m.target.key)} },`,
    `      transform: (row: Row${m.parents.length ? ', ctx: { parents: Record<string, Row> }' : ''}) => ({`,
    `        ${prop(m.target.key)}: ${keyValue},`,
    ...m.columns.map((c) =>
      c.parentColumn
        ? `        ${prop(c.target)}: ctx.parents[${JSON.stringify(c.source)}]?.[${JSON.stringify(c.parentColumn)}] ?? null, // the parent's counterpart`
        : `        ${prop(c.target)}: ${read(c.source)},`,
    ),
    ...(m.softDelete ? [`        ${prop(m.softDelete)}: false,`] : []),
    '      }),',
  ];
  if (m.parents.length) {
    lines.push('      parents: [');
    for (const p of m.parents) {
      const why = p.from === 'foreign key' ? 'from a foreign key' : 'guessed from the column name: check it';
      lines.push(`        { mapping: ${str(p.mapping)}, column: ${str(p.column)} }, // ${why}`);
    }
    lines.push('      ],');
  }
  lines.push(`      onDelete: ${m.softDelete ? `{ softDelete: ${str(m.softDelete)} }` : "'delete'"},`, '    },');
  return lines;
}

/** The opposite direction, commented out: two-way sync is a choice the user makes. */
function renderReverse(m: ProposedMapping, hc: boolean): string[] {
  const [fromSchema, fromTable] = m.source.table.split('.') as [string, string];
  const [, toTable] = m.target.table.split('.') as [string, string];
  const back = m.columns.filter((c) => !c.parentColumn).map((c) => `//         ${prop(c.source)}: ${read(c.target)},`);
  return [
    `    // The other way, ${m.target.table} -> ${m.source.table}, for two-way sync (uncomment and check):`,
    '    // {',
    `    //   name: ${str(`${toTable}_to_${fromTable}`)},`,
    `    //   source: { table: ${str(m.target.table)}, key: 'id' },`,
    `    //   target: { table: ${str(m.source.table)}, key: ${str(m.source.key)} },`,
    '    //   transform: (row: Row) =>',
    `    //     ${hc ? 'row.isdeleted ? null : ' : ''}({`,
    `    //         ${prop(m.source.key)}: ${read(m.target.key)} === null ? null : ${read(m.target.key)},`,
    ...back,
    '    //     }),',
    `    //   // A record created in ${m.target.table.split('.')[0]} gets a new ${fromSchema}.${fromTable} row, whose key is written back:`,
    `    //   link: { writeBack: ${str(m.target.key)} },`,
    "    //   onDelete: 'ignore',",
    '    // },',
  ];
}
