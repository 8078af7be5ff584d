// `ferry logs`: one sync's story, read from the log table alone (no Temporal
// call, like `ferry status`): the logs of one source row, what each became,
// the workflow that carried it, and the parents it named or waits for.
import type { WaitLink } from '../contract/index.js';
import { syncLogWorkflowId } from '../contract/names.js';
import { mappingByName, type FerryConfig } from '../config.js';
import { logTable, type LogRow, type Pool } from '../db/index.js';
import { quoteIdent, quoteTable, selectRowStatement } from '../statements.js';
import { webUiLink } from './web-ui.js';

export interface StoryLog {
  logId: number;
  createdAt: string;
  kind: string;
  op: string;
  status: string;
  attempts: number;
  error: string | null;
  syncedAt: string | null;
  supersededBy: number | null;
  workflowId: string;
  webUi: string;
  /** Pending and waiting: the parent row it waits for, then that row's own wait, and so on up. */
  waitingFor?: WaitLink[];
}

export interface StoryParent {
  mapping: string;
  column: string;
  key: string;
  /** Whether the parent's target row is there now. */
  presentInTarget: boolean;
  /** The parent row's newest logs, newest first. */
  logs: { logId: number; status: string; workflowId: string }[];
}

export interface SyncStory {
  mapping: string;
  rowKey: string;
  logs: StoryLog[];
  parents: StoryParent[];
}

/** A log id, or a source row as MAPPING:KEY. */
export type StoryTarget = { logId: number } | { mapping: string; rowKey: string };

/** undefined when no such log (or no log of that row) exists. */
export async function collectStory(pool: Pool, config: FerryConfig, target: StoryTarget, limit = 50): Promise<SyncStory | undefined> {
  let rows: LogRow[];
  if ('logId' in target) {
    const log = await logTable.findLog(pool, target.logId);
    rows = log ? [log] : [];
  } else {
    rows = (
      await pool.query<LogRow>(`SELECT * FROM ferry.database_trigger_log WHERE mapping = $1 AND row_key = $2 ORDER BY id DESC LIMIT $3`, [
        target.mapping,
        target.rowKey,
        limit,
      ])
    ).rows.reverse();
  }
  if (!rows.length) return undefined;
  const { mapping, row_key: rowKey } = rows[0]!;
  const logs: StoryLog[] = [];
  for (const r of rows) {
    const workflowId = r.workflow_id ?? syncLogWorkflowId(config.instance, r.id);
    logs.push({
      logId: Number(r.id),
      createdAt: r.created_at.toISOString(),
      kind: r.kind,
      op: r.op,
      status: r.status,
      attempts: r.attempts,
      error: r.error,
      syncedAt: r.synced_at?.toISOString() ?? null,
      supersededBy: r.superseded_by === null ? null : Number(r.superseded_by),
      workflowId,
      webUi: webUiLink(config, workflowId),
      ...(r.waiting_key !== null ? { waitingFor: await logTable.waitChain(pool, r.waiting_mapping!, r.waiting_key) } : {}),
    });
  }
  return { mapping, rowKey, logs, parents: await parentsOf(pool, config, mapping, rowKey, rows[rows.length - 1]!) };
}

/** The parents the row names now (else as its newest log saw it), each with its target presence and newest logs. */
async function parentsOf(pool: Pool, config: FerryConfig, mappingName: string, rowKey: string, newest: LogRow): Promise<StoryParent[]> {
  const mapping = mappingByName(config, mappingName);
  if (!mapping?.parents.length) return [];
  const select = selectRowStatement(mapping.source.table, mapping.source.key, rowKey);
  const current = (await pool.query<{ row: Record<string, unknown> | null }>(select.text, select.values)).rows[0]?.row;
  const row = current ?? newest.old_row ?? {};
  const out: StoryParent[] = [];
  for (const ref of mapping.parents) {
    const value = row[ref.column];
    const parent = mappingByName(config, ref.mapping);
    if (value === null || value === undefined || !parent) continue;
    const key = String(value);
    const present = await pool.query(`SELECT 1 FROM ${quoteTable(parent.target.table)} WHERE ${quoteIdent(parent.target.key)}::text = $1 LIMIT 1`, [
      key,
    ]);
    const parentLogs = await pool.query<{ id: string; status: string; workflow_id: string | null }>(
      `SELECT id, status, workflow_id FROM ferry.database_trigger_log WHERE mapping = $1 AND row_key = $2 ORDER BY id DESC LIMIT 3`,
      [parent.name, key],
    );
    out.push({
      mapping: parent.name,
      column: ref.column,
      key,
      presentInTarget: (present.rowCount ?? 0) > 0,
      logs: parentLogs.rows.map((l) => ({
        logId: Number(l.id),
        status: l.status,
        workflowId: l.workflow_id ?? syncLogWorkflowId(config.instance, Number(l.id)),
      })),
    });
  }
  return out;
}

export function formatStory(s: SyncStory): string {
  const out = [`${s.mapping} key ${s.rowKey}: ${s.logs.length} log(s)`];
  for (const l of s.logs) {
    out.push(
      '',
      `log ${l.logId}  ${l.op}${l.kind === 'change' ? '' : ` (${l.kind})`}  ${l.status}  attempts ${l.attempts}  captured ${l.createdAt}` +
        (l.syncedAt ? `  finished ${l.syncedAt}` : ''),
      `  workflow ${l.workflowId}`,
      `    ${l.webUi}`,
    );
    if (l.supersededBy !== null) out.push(`  superseded by log ${l.supersededBy}`);
    if (l.error) out.push(`  error: ${l.error}`);
    if (l.waitingFor?.length)
      out.push(
        `  waits for parent ${l.waitingFor.map((w) => `${w.mapping} key ${w.key}${w.logId ? ` (log ${w.logId})` : ''}`).join(', which waits for ')}`,
      );
  }
  if (s.parents.length) {
    out.push('', 'Parents:');
    for (const p of s.parents)
      out.push(
        `  ${p.mapping} key ${p.key} (column ${p.column}): ${p.presentInTarget ? 'in the target' : 'NOT in the target yet'}` +
          (p.logs.length ? `; logs ${p.logs.map((l) => `${l.logId} ${l.status}`).join(', ')}` : '; no logs'),
      );
  }
  return out.join('\n') + '\n';
}
