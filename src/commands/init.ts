// `ferry init`: a starter config written from the database's own schema.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { withPool } from '../db/index.js';
import { introspectSchema } from '../init/introspect.js';
import { proposeConfig } from '../init/propose.js';
import { renderConfig } from '../init/render.js';

export interface InitOptions {
  databaseUrl: string;
  from: string;
  to: string;
  /** `--pair users=account`, as given. */
  pairs: string[];
  out: string;
  force: boolean;
}

/** Bad usage found before anything is written; the CLI exits 2 on it. */
export class InitUsageError extends Error {
  override name = 'UsageError';
}

export function parsePairs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const m = /^([^=\s]+)=([^=\s]+)$/.exec(pair);
    if (!m) throw new InitUsageError(`--pair: expected SOURCE=TARGET table names, e.g. --pair users=account, not "${pair}"`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

export async function initCommand(opts: InitOptions): Promise<number> {
  const pairs = parsePairs(opts.pairs);
  const file = path.resolve(opts.out);
  if (existsSync(file) && !opts.force) throw new InitUsageError(`${opts.out} exists; pass --force to overwrite it`);
  const proposal = await withPool(opts.databaseUrl, 1, async (pool) => {
    const [source, target] = [await introspectSchema(pool, opts.from), await introspectSchema(pool, opts.to)];
    if (source.length === 0) throw new InitUsageError(`--from: schema "${opts.from}" has no tables in this database`);
    if (target.length === 0) throw new InitUsageError(`--to: schema "${opts.to}" has no tables in this database`);
    return proposeConfig({ from: opts.from, to: opts.to, source, target, pairs });
  });
  const command = ['ferry init', `--from ${opts.from}`, `--to ${opts.to}`, ...opts.pairs.map((p) => `--pair ${p}`)].join(' ');
  const text = renderConfig(proposal, { databaseUrl: opts.databaseUrl, command, date: new Date().toISOString().slice(0, 10) });
  writeFileSync(file, text);
  console.log(`wrote ${opts.out}: ${proposal.mappings.length} mapping(s)`);
  for (const m of proposal.mappings) console.log(`  ${m.name}: ${m.source.table} -> ${m.target.table} (key ${m.target.key})`);
  for (const w of proposal.warnings) console.error(`check: ${w}`);
  if (proposal.unmatched.length) console.error(`no target for: ${proposal.unmatched.join(', ')} (use --pair SOURCE=TARGET)`);
  console.log(`next: read it, then \`ferry migrate --print --config ${opts.out}\``);
  return 0;
}
