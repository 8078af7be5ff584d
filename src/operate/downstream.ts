// Downstream status: for a target whose far side reports each row's fate
// (target.downstream, e.g. Heroku Connect's _hc_lastop / _hc_err), whether
// the rows Ferry carried there reached it. Read from the target table itself:
// the log's own status stays `synced` (Ferry's hop is done), the far side's
// state lives beside it.
import type { FerryConfig, Mapping } from '../config.js';
import { markOwnWrite } from '../../activities/upsert.js';
import { withTransaction, type Pool, type Queryable } from '../db/index.js';
import { quoteIdent, quoteTable, type Statement } from '../statements.js';

export type Downstream = NonNullable<Mapping['target']['downstream']>;

export interface DownstreamCounts {
  mapping: string;
  delivered: number;
  pending: number;
  rejected: number;
}

export interface Rejection {
  /** The target row's key. */
  key: string;
  /** What the far side said (the error column), as it wrote it. */
  error: string | null;
}

export interface DownstreamStatus extends DownstreamCounts {
  /** The rejections' errors, most frequent first, with how many rows each. */
  reasons: { error: string | null; rows: number }[];
  /** The first rejected rows, by key. */
  rejections: Rejection[];
}

export function downstreamMappings(config: FerryConfig, only?: string): (Mapping & { target: { downstream: Downstream } })[] {
  return config.mappings.filter(
    (m): m is Mapping & { target: { downstream: Downstream } } => !!m.target.downstream && (only === undefined || m.name === only),
  );
}

/** Rows of the mapping's target (those with a key: the mapping's rows), by state. */
function countsStatement(mapping: Mapping, d: Downstream): Statement {
  const status = `ferry_t.${quoteIdent(d.status)}::text`;
  return {
    text: `SELECT count(*) FILTER (WHERE ${status} = $1)::int AS rejected,
                  count(*) FILTER (WHERE ${status} IS NULL OR ${status} = ANY($2))::int AS pending,
                  count(*) FILTER (WHERE ${status} <> $1 AND NOT ${status} = ANY($2))::int AS delivered
             FROM ${quoteTable(mapping.target.table)} ferry_t WHERE ferry_t.${quoteIdent(mapping.target.key)} IS NOT NULL`,
    values: [d.failed, d.pending],
  };
}

/** The rejected rows' key and error: `select` picks what of them (a list, or errors counted). */
function rejectedRows(mapping: Mapping, d: Downstream): string {
  const error = d.error ? `ferry_t.${quoteIdent(d.error)}::text` : 'NULL::text';
  const key = `ferry_t.${quoteIdent(mapping.target.key)}`;
  return `SELECT ${key}::text AS key, ${error} AS error FROM ${quoteTable(mapping.target.table)} ferry_t
           WHERE ${key} IS NOT NULL AND ferry_t.${quoteIdent(d.status)}::text = $1`;
}

export async function downstreamCounts(db: Queryable, config: FerryConfig): Promise<DownstreamCounts[]> {
  const out: DownstreamCounts[] = [];
  for (const m of downstreamMappings(config)) {
    const { rows } = await db.query<Omit<DownstreamCounts, 'mapping'>>(countsStatement(m, m.target.downstream));
    out.push({ mapping: m.name, ...rows[0]! });
  }
  return out;
}

/** For `ferry status`: each downstream mapping's counts, its rejections' reasons and the first `limit` rejected rows. */
export async function downstreamStatus(db: Queryable, config: FerryConfig, limit: number): Promise<DownstreamStatus[]> {
  const counts = new Map((await downstreamCounts(db, config)).map((c) => [c.mapping, c]));
  const out: DownstreamStatus[] = [];
  for (const m of downstreamMappings(config)) {
    const d = m.target.downstream;
    const rejected = rejectedRows(m, d);
    const reasons = await db.query<{ error: string | null; rows: number }>(
      `SELECT error, count(*)::int AS rows FROM (${rejected}) r GROUP BY error ORDER BY rows DESC, error LIMIT 5`,
      [d.failed],
    );
    const rejections = await db.query<Rejection>(`${rejected} ORDER BY 1 LIMIT $2`, [d.failed, limit]);
    out.push({ ...counts.get(m.name)!, reasons: reasons.rows, rejections: rejections.rows });
  }
  return out;
}

/**
 * `ferry retry --downstream-rejected`: the mapping's rejected rows are made
 * pending again (status: the first `pending` value, error cleared), so the
 * far side sends them again with what they hold now. Ferry's own write: the
 * reverse mapping, if any, logs nothing. Returns the rows per mapping.
 */
export async function resendRejected(pool: Pool, mapping: Mapping & { target: { downstream: Downstream } }): Promise<number> {
  const d = mapping.target.downstream;
  const set = [`${quoteIdent(d.status)} = $2`, ...(d.error ? [`${quoteIdent(d.error)} = NULL`] : [])];
  return withTransaction(pool, async (client) => {
    await markOwnWrite(client, [mapping.source.table]);
    const { rowCount } = await client.query(
      `UPDATE ${quoteTable(mapping.target.table)} SET ${set.join(', ')}
        WHERE ${quoteIdent(mapping.target.key)} IS NOT NULL AND ${quoteIdent(d.status)}::text = $1`,
      [d.failed, d.pending[0] ?? null],
    );
    return rowCount ?? 0;
  });
}

/** The error column's text, shorter: Heroku Connect's JSON `_hc_err` reads as its `msg`. */
export function errorMessage(error: string | null): string {
  if (error === null) return '(no error given)';
  try {
    const parsed: unknown = JSON.parse(error);
    if (parsed && typeof parsed === 'object' && typeof (parsed as { msg?: unknown }).msg === 'string') return (parsed as { msg: string }).msg;
  } catch {
    // not JSON: the text as it is
  }
  return error;
}

/** `ferry status`'s lines for the downstream mappings (none without any). */
export function formatDownstream(list: DownstreamStatus[]): string[] {
  if (!list.length) return [];
  const out = ['', 'Downstream (what the far side did with the rows Ferry wrote):'];
  for (const d of list) {
    out.push(`  ${d.mapping}  delivered ${d.delivered}  pending ${d.pending}  rejected ${d.rejected}`);
    for (const r of d.reasons) out.push(`    ${r.rows} rejected: ${errorMessage(r.error)}`);
    for (const r of d.rejections) out.push(`    key ${r.key}: ${errorMessage(r.error)}`);
  }
  if (list.some((d) => d.rejected > 0)) out.push('  Send the rejected rows again after a fix:  ferry retry --downstream-rejected [--mapping NAME]');
  return out;
}
