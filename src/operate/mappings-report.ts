// `ferry mappings`: each mapping as the config states it, with what the
// database says of it: its source table's triggers and whether it is paused.
import { reverseOf, type FerryConfig } from '../config.js';
import type { Pool } from '../db/index.js';
import { listPaused } from '../db/paused-mappings.js';
import { TRIGGER_NAMES } from '../statements.js';
import { parseTable } from '../table-name.js';

export interface MappingReport {
  name: string;
  source: string;
  target: string;
  parents: { mapping: string; column: string; optional: boolean }[];
  /** one-way, or two-way when another mapping carries the target back. */
  mode: 'one-way' | 'two-way';
  /** How new logs are found: NOTIFY from the trigger, or the listener polling. */
  capture: 'notify' | 'poll' | 'wal';
  /** installed: every capture trigger there and enabled; disabled: one is disabled; missing: none or some (run `ferry migrate`); none: WAL mode, which uses none. */
  trigger: 'installed' | 'disabled' | 'missing' | 'none';
  paused: boolean;
  pausedAt: string | null;
}

const LOG_TRIGGERS = TRIGGER_NAMES.filter((t) => t.startsWith('ferry_log_'));

export async function collectMappings(pool: Pool, config: FerryConfig): Promise<MappingReport[]> {
  const tables = config.mappings.map((m) => parseTable(m.source.table)!);
  const { rows } = await pool.query<{ schema: string; table: string; name: string; enabled: string }>(
    `SELECT n.nspname AS schema, c.relname AS table, t.tgname AS name, t.tgenabled AS enabled
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.tgname = ANY($1::text[]) AND (n.nspname, c.relname) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
    [LOG_TRIGGERS, tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
  const paused = await listPaused(pool);
  return config.mappings.map((m, i) => {
    const own = rows.filter((r) => r.schema === tables[i]!.schema && r.table === tables[i]!.name);
    const wal = config.capture.mode === 'wal';
    const trigger = wal ? 'none' : own.length < LOG_TRIGGERS.length ? 'missing' : own.some((r) => r.enabled === 'D') ? 'disabled' : 'installed';
    const p = paused.find((x) => x.mapping === m.name);
    return {
      name: m.name,
      source: m.source.table,
      target: m.target.table,
      parents: m.parents.map((r) => ({ mapping: r.mapping, column: r.column, optional: r.optional })),
      mode: reverseOf(config.mappings, m) ? 'two-way' : 'one-way',
      capture: wal ? 'wal' : config.capture.notify ? 'notify' : 'poll',
      trigger,
      paused: Boolean(p),
      pausedAt: p ? p.pausedAt.toISOString() : null,
    };
  });
}

export function formatMappings(list: MappingReport[]): string {
  const header = ['MAPPING', 'SOURCE', 'TARGET', 'PARENTS', 'MODE', 'CAPTURE', 'TRIGGER', 'STATE'];
  const rows = list.map((m) => [
    m.name,
    m.source,
    m.target,
    m.parents.map((p) => `${p.mapping}(${p.column})${p.optional ? '?' : ''}`).join(',') || '-',
    m.mode,
    m.capture,
    m.trigger,
    m.paused ? 'paused' : 'running',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return (
    [header, ...rows]
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
