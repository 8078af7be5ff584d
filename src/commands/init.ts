// `ferry init`: a starter config written from the database's own schema.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OutputFormat } from '../cli/common-options.js';
import { emit } from '../cli/output.js';
import { UsageError } from '../cli/usage-error.js';
import { withPool } from '../db/index.js';
import { introspectSchema } from '../init/introspect.js';
import { proposeConfig } from '../init/propose.js';
import { renderConfig } from '../init/render.js';
import { packageInfo } from '../package-info.js';

export interface InitOptions {
  databaseUrl: string;
  from: string;
  to: string;
  /** `--pair users=account`, as given. */
  pairs: string[];
  out: string;
  force: boolean;
  output: OutputFormat;
}

/**
 * Where init writes and which database it reads. `--config` means what it
 * means everywhere: the config file. An existing one names the database
 * (else DATABASE_URL does) and is the file written unless `--out` says
 * another; the default is ferry.config.ts, as every command reads.
 */
export async function initTarget(config: string | undefined, out: string | undefined): Promise<{ databaseUrl: string; out: string }> {
  const given = config ?? process.env.FERRY_CONFIG;
  let databaseUrl = process.env.DATABASE_URL;
  if (given && existsSync(given)) {
    const { loadConfig } = await import('../config.js');
    databaseUrl = (await loadConfig(given)).database.url;
  }
  if (!databaseUrl) throw new UsageError('init reads the database that --config names, else DATABASE_URL: set one');
  return { databaseUrl, out: out ?? given ?? 'ferry.config.ts' };
}

export function parsePairs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const m = /^([^=\s]+)=([^=\s]+)$/.exec(pair);
    if (!m) throw new UsageError(`--pair: expected SOURCE=TARGET table names, e.g. --pair users=account, not "${pair}"`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

export async function initCommand(opts: InitOptions): Promise<number> {
  const pairs = parsePairs(opts.pairs);
  const file = path.resolve(opts.out);
  if (existsSync(file) && !opts.force) throw new UsageError(`${opts.out} exists; pass --force to overwrite it`);
  const proposal = await withPool(opts.databaseUrl, 1, async (pool) => {
    const [source, target] = [await introspectSchema(pool, opts.from), await introspectSchema(pool, opts.to)];
    if (source.length === 0) throw new UsageError(`--from: schema "${opts.from}" has no tables in this database`);
    if (target.length === 0) throw new UsageError(`--to: schema "${opts.to}" has no tables in this database`);
    return proposeConfig({ from: opts.from, to: opts.to, source, target, pairs });
  });
  const command = ['ferry init', `--from ${opts.from}`, `--to ${opts.to}`, ...opts.pairs.map((p) => `--pair ${p}`)].join(' ');
  const text = renderConfig(proposal, { packageName: packageInfo().name, command, date: new Date().toISOString().slice(0, 10) });
  writeFileSync(file, text);
  const data = {
    file: opts.out,
    mappings: proposal.mappings.map((m) => ({ name: m.name, source: m.source.table, target: m.target.table, key: m.target.key })),
    warnings: proposal.warnings,
    unmatched: proposal.unmatched,
  };
  if (opts.output === 'text') {
    for (const w of proposal.warnings) console.error(`check: ${w}`);
    if (proposal.unmatched.length) console.error(`no target for: ${proposal.unmatched.join(', ')} (use --pair SOURCE=TARGET)`);
  }
  emit(opts.output, data, (d) =>
    [
      `wrote ${d.file}: ${d.mappings.length} mapping(s)`,
      ...d.mappings.map((m) => `  ${m.name}: ${m.source} -> ${m.target} (key ${m.key})`),
      `next: read it, then \`ferry migrate --print --config ${d.file}\``,
    ].join('\n'),
  );
  return 0;
}
