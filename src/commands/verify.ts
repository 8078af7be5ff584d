import type { FerryConfig, Mapping } from '../config.js';
import { withPool, type Pool } from '../db/index.js';
import type { Logger } from '../logger.js';
import { startBackfill, waitForBackfill } from '../bulk/backfill-run.js';
import { formatProgress } from '../bulk/progress-bar.js';
import { verifyMapping, type VerifyReport } from '../bulk/verify.js';
import { connectClient } from '../temporal/client.js';
import { selectMappings } from './backfill.js';

export interface VerifyCommandOptions {
  mappings: string[] | 'all';
  repair: boolean;
  json: boolean;
  batch: number;
}

const differences = (r: VerifyReport) => r.differs + r.missing + r.orphans + r.errors;

/**
 * `ferry verify`: exit 0 when every target equals transform(source), 1 when
 * anything differs. `--repair` carries the differences through the backfill
 * path (a backfill workflow of just those keys), then verifies again.
 */
export async function verifyCommand(config: FerryConfig, logger: Logger, opts: VerifyCommandOptions): Promise<number> {
  const mappings = selectMappings(config, opts.mappings);
  return withPool(config.database.url, 2, async (pool) => {
    let reports = await verifyAll(pool, config, mappings, opts);
    let repaired: VerifyReport[] | undefined;
    if (opts.repair && reports.some((r) => differences(r) > 0)) {
      if (!opts.json) printReports(reports);
      await repair(config, logger, mappings, reports, opts.json);
      repaired = reports;
      reports = await verifyAll(pool, config, mappings, opts);
    }
    const equal = reports.every((r) => differences(r) === 0);
    if (opts.json) {
      const strip = (r: VerifyReport) => ({ ...r, repairKeys: undefined, orphanKeys: undefined });
      process.stdout.write(
        JSON.stringify({ equal, mappings: reports.map(strip), ...(repaired ? { beforeRepair: repaired.map(strip) } : {}) }, null, 2) + '\n',
      );
    } else {
      if (repaired) console.log('\nAfter repair:');
      printReports(reports);
      console.log(equal ? 'EQUAL' : 'DIFFERENT');
    }
    return equal ? 0 : 1;
  });
}

async function verifyAll(pool: Pool, config: FerryConfig, mappings: Mapping[], opts: VerifyCommandOptions): Promise<VerifyReport[]> {
  const reports: VerifyReport[] = [];
  const tty = process.stderr.isTTY === true;
  for (const m of mappings) {
    const started = performance.now();
    reports.push(
      await verifyMapping(pool, config, m, {
        batch: opts.batch,
        onProgress: tty
          ? (done, total) =>
              process.stderr.write(
                `\r${formatProgress({ label: `verify ${m.name}`, done, total, rate: done / ((performance.now() - started) / 1000) })}`,
              )
          : undefined,
      }),
    );
    if (tty) process.stderr.write('\n');
  }
  return reports;
}

async function repair(config: FerryConfig, logger: Logger, mappings: Mapping[], reports: VerifyReport[], quiet: boolean): Promise<void> {
  const client = await connectClient(config, logger);
  try {
    for (const [i, r] of reports.entries()) {
      if (differences(r) === 0) continue;
      // Too many to list: the whole mapping goes through the backfill.
      const keys = r.repairKeys === null ? undefined : r.repairKeys;
      if (keys?.length === 0 && r.orphanKeys.length === 0) continue;
      const handle = await startBackfill(client, config, mappings[i]!, { batch: 1000, keys, orphans: r.orphanKeys });
      const outcome = await waitForBackfill(handle, quiet ? silentWriter : undefined);
      if (!outcome.ok) throw new Error(`repair of ${r.mapping}: backfill ${outcome.reason}`);
    }
  } finally {
    await client.connection.close();
  }
}

const silentWriter = { update() {}, end() {} };

function printReports(reports: VerifyReport[]): void {
  const header = ['MAPPING', 'ROWS', 'EQUAL', 'DIFFERS', 'MISSING', 'ORPHANS', 'SKIPPED', 'ERRORS', 'ROWS/S'];
  const rows = reports.map((r) =>
    [r.mapping, r.rows, r.equal, r.differs, r.missing, r.orphans, r.skipped, r.errors, Math.round(r.rows / Math.max(r.seconds, 0.001))].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log([line(header), ...rows.map(line)].join('\n'));
  for (const r of reports) {
    const { differs, missing, orphans, errors } = r.examples;
    for (const d of differs)
      console.log(
        `  ${r.mapping} key ${d.key} differs: ${Object.entries(d.columns)
          .map(([c, [want, have]]) => `${c} ${JSON.stringify(have)} (want ${JSON.stringify(want)})`)
          .join(', ')}`,
      );
    if (missing.length)
      console.log(`  ${r.mapping} missing in target, source keys: ${missing.join(', ')}${r.missing > missing.length ? ', ...' : ''}`);
    if (orphans.length)
      console.log(`  ${r.mapping} orphans in target, target keys: ${orphans.join(', ')}${r.orphans > orphans.length ? ', ...' : ''}`);
    for (const e of errors) console.log(`  ${r.mapping} transform threw for key ${e}`);
  }
}
