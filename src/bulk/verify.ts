import { isDeepStrictEqual } from 'node:util';
import type { FerryConfig, Mapping, Row } from '../config.js';
import { mappingByName } from '../config.js';
import type { Pool } from '../db/index.js';
import { countSourceRows } from '../../activities/count-rows.js';
import { compareStatement, rowsByKeysStatement, sourceChunkStatement, targetChunkStatement } from './verify-sql.js';

/** First differing keys kept per kind, for the report. */
const EXAMPLES = 10;
/** Keys kept for a repair; beyond this a repair backfills the whole mapping. */
export const REPAIR_KEYS_MAX = 20_000;

export interface Difference {
  key: string;
  /** Column: [wanted, found]. */
  columns: Record<string, [unknown, unknown]>;
}

export interface VerifyReport {
  mapping: string;
  /** Source rows compared. */
  rows: number;
  equal: number;
  /** Target row exists but a returned column differs. */
  differs: number;
  /** Source row with no target row (or, with `link`, not linked yet). */
  missing: number;
  /** Target row whose source is gone, not deleted or flagged per onDelete. */
  orphans: number;
  /** Source rows the transform skips (returned null). */
  skipped: number;
  /** Source rows whose transform threw. */
  errors: number;
  examples: { differs: Difference[]; missing: string[]; orphans: string[]; errors: string[] };
  /** Source keys a repair carries again (differs, missing); null when there were too many to list. */
  repairKeys: string[] | null;
  /** Target keys a repair applies onDelete to. */
  orphanKeys: string[];
  seconds: number;
}

export interface VerifyOptions {
  batch: number;
  /** Called after each chunk with rows compared so far and the estimated total. */
  onProgress?: (done: number, total: number) => void;
}

/** The columns of `want` (the transform's output) whose value differs in `have`; {} when equal. */
export function differingColumns(columns: string[], want: Row, have: Row): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  for (const c of columns) if (!isDeepStrictEqual(want[c] ?? null, have[c] ?? null)) out[c] = [want[c] ?? null, have[c] ?? null];
  return out;
}

/**
 * Compares, in keyset chunks of the source table, transform(source row)
 * with the target row, on the columns the transform returns; then walks the
 * target for rows no source row produces (orphans, per onDelete).
 */
export async function verifyMapping(pool: Pool, config: FerryConfig, mapping: Mapping, opts: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const report: VerifyReport = {
    mapping: mapping.name,
    rows: 0,
    equal: 0,
    differs: 0,
    missing: 0,
    orphans: 0,
    skipped: 0,
    errors: 0,
    examples: { differs: [], missing: [], orphans: [], errors: [] },
    repairKeys: [],
    orphanKeys: [],
    seconds: 0,
  };
  const repair = (key: string) => {
    if (report.repairKeys && report.repairKeys.length < REPAIR_KEYS_MAX) report.repairKeys.push(key);
    else report.repairKeys = null;
  };
  const total = await countSourceRows(pool, mapping);
  const produced = new Set<string>();
  let cursor: string | null = null;
  for (;;) {
    const { rows }: { rows: { k: string; row: Row }[] } = await pool.query(sourceChunkStatement(mapping, cursor, opts.batch));
    if (rows.length === 0) break;
    cursor = rows[rows.length - 1]!.k;
    const parents = await parentRows(
      pool,
      config,
      mapping,
      rows.map((r) => r.row),
    );
    const wanted: { i: number; out: Row }[] = [];
    for (const [i, { k, row }] of rows.entries()) {
      const ctx = { op: 'UPDATE' as const, logId: 0, mapping: mapping.name, parents: parentsOf(mapping, row, parents) };
      let out: Row | null;
      try {
        out = (await mapping.transform(row, ctx)) ?? null;
      } catch (err) {
        report.errors++;
        if (report.examples.errors.length < EXAMPLES) report.examples.errors.push(`${k}: ${(err as Error).message}`);
        continue;
      }
      if (out === null) report.skipped++;
      else wanted.push({ i, out });
    }
    if (wanted.length) {
      const compared = await pool.query<{ i: number; target_key: string | null; want: Row; have: Row | null }>(compareStatement(mapping, wanted));
      const outs = new Map(wanted.map((w) => [w.i, w.out]));
      for (const c of compared.rows) {
        const key = rows[c.i]!.k;
        if (c.target_key !== null) produced.add(c.target_key);
        if (c.have === null) {
          report.missing++;
          if (report.examples.missing.length < EXAMPLES) report.examples.missing.push(key);
          repair(key);
          continue;
        }
        const columns = differingColumns(Object.keys(outs.get(c.i)!), c.want, c.have);
        if (Object.keys(columns).length === 0) report.equal++;
        else {
          report.differs++;
          if (report.examples.differs.length < EXAMPLES) report.examples.differs.push({ key, columns });
          repair(key);
        }
      }
    }
    report.rows += rows.length;
    opts.onProgress?.(report.rows, Math.max(total, report.rows));
    if (rows.length < opts.batch) break;
  }
  if (mapping.onDelete !== 'ignore') await findOrphans(pool, mapping, produced, opts.batch, report);
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

async function findOrphans(pool: Pool, mapping: Mapping, produced: Set<string>, batch: number, report: VerifyReport): Promise<void> {
  let cursor: string | null = null;
  for (;;) {
    const { rows }: { rows: { k: string; deleted: boolean }[] } = await pool.query(targetChunkStatement(mapping, cursor, batch));
    if (rows.length === 0) return;
    cursor = rows[rows.length - 1]!.k;
    for (const r of rows) {
      if (produced.has(r.k) || r.deleted) continue;
      report.orphans++;
      if (report.examples.orphans.length < EXAMPLES) report.examples.orphans.push(r.k);
      if (report.orphanKeys.length < REPAIR_KEYS_MAX) report.orphanKeys.push(r.k);
    }
    if (rows.length < batch) return;
  }
}

/** Each parent mapping's target rows that the chunk's rows point at, by parent column and key. */
async function parentRows(pool: Pool, config: FerryConfig, mapping: Mapping, rows: Row[]): Promise<Map<string, Map<string, Row>>> {
  const out = new Map<string, Map<string, Row>>();
  for (const ref of mapping.parents) {
    const parent = mappingByName(config, ref.mapping)!;
    const values = [
      ...new Set(
        rows
          .map((r) => r[ref.column])
          .filter((v) => v !== null && v !== undefined)
          .map(String),
      ),
    ];
    const found = values.length
      ? (await pool.query<{ k: string; row: Row }>(rowsByKeysStatement(parent.target.table, parent.target.key, values))).rows
      : [];
    out.set(ref.column, new Map(found.map((f) => [f.k, f.row])));
  }
  return out;
}

function parentsOf(mapping: Mapping, row: Row, parents: Map<string, Map<string, Row>>): Record<string, Row> {
  const out: Record<string, Row> = {};
  for (const ref of mapping.parents) {
    const value = row[ref.column];
    const found = value === null || value === undefined ? undefined : parents.get(ref.column)!.get(String(value));
    if (found) out[ref.column] = found;
  }
  return out;
}
