// Writes the log rows of transactions read from the slot, and the position
// they reach, in one transaction: the position is never ahead of the log.
import { withTransaction, type PgClient, type Pool } from '../../db/index.js';
import { quoteIdent } from '../../statements.js';
import type { LogEntry, Relation } from './changes.js';
import { formatLsn, type TupleValue } from './pgoutput.js';

/** One committed source transaction, ready for the log. */
export interface CommittedTx {
  xid: number;
  /** The LSN of its commit record: with `seq`, the log rows' unique place in the WAL. */
  commitLsn: bigint;
  /** The end of its commit record: what is confirmed to Postgres once it is in the log. */
  endLsn: bigint;
  /** Microseconds since 2000-01-01 (the replication protocol's clock). */
  commitTime: bigint;
  entries: LogEntry[];
}

/** Each relation's column types, as SQL text (`format_type`), read once per relation message. */
export class ColumnTypes {
  private readonly types = new Map<Relation, string[]>();

  async of(client: PgClient, relation: Relation): Promise<string[]> {
    let types = this.types.get(relation);
    if (!types) {
      const { rows } = await client.query<{ t: string }>(
        `SELECT format_type(o, m) AS t FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY u(o, m, n) ORDER BY n`,
        [relation.columns.map((c) => c.typeOid), relation.columns.map((c) => c.typeMod)],
      );
      types = rows.map((r) => r.t);
      this.types.set(relation, types);
    }
    return types;
  }
}

const imageValue = (v: TupleValue): string | null => (typeof v === 'string' ? v : null);

/**
 * One INSERT for a transaction's log rows, in order. Postgres turns each old
 * image's text values into the row's types and then into jsonb, so `old_row`
 * holds what `to_jsonb(OLD)` holds in trigger mode; `txid` gets the xid's
 * epoch back; `created_at` is the commit time.
 */
async function insertTx(client: PgClient, tx: CommittedTx, types: ColumnTypes): Promise<void> {
  const relations = [...new Set(tx.entries.filter((e) => e.image).map((e) => e.relation))];
  const images: (string | null)[][][] = relations.map(() => []);
  const rows = tx.entries.map((e, n) => {
    if (!e.image) return { n, m: e.mapping, t: e.table, op: e.op, k: e.rowKey, r: null, i: null };
    const r = relations.indexOf(e.relation);
    images[r]!.push(e.image.map(imageValue));
    return { n, m: e.mapping, t: e.table, op: e.op, k: e.rowKey, r, i: images[r]!.length };
  });
  const ctes: string[] = [];
  for (const [r, relation] of relations.entries()) {
    const columnTypes = await types.of(client, relation);
    const cols = relation.columns.map((c, j) => `(v.v->>${j})::${columnTypes[j]} AS ${quoteIdent(c.name)}`).join(', ');
    ctes.push(
      `img${r} AS (SELECT ${r} AS r, v.n, to_jsonb(x) AS img FROM jsonb_array_elements($${r + 5}::jsonb) WITH ORDINALITY v(v, n) CROSS JOIN LATERAL (SELECT ${cols}) x)`,
    );
  }
  const imgs = relations.length
    ? relations.map((_, r) => `SELECT * FROM img${r}`).join(' UNION ALL ')
    : 'SELECT NULL::int AS r, NULL::bigint AS n, NULL::jsonb AS img WHERE false';
  await client.query(
    `WITH ${[...ctes, `imgs AS (${imgs})`].join(',\n')},
          c AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS c(n int, m text, t text, op text, k text, r int, i bigint)),
          x AS (SELECT txid_current() AS cur)
     INSERT INTO ferry.database_trigger_log (created_at, txid, mapping, table_name, op, row_key, old_row, lsn, seq)
     SELECT timestamptz '2000-01-01 00:00:00+00' + $2::bigint * interval '1 microsecond',
            x.cur - x.cur % 4294967296 + $3::bigint - CASE WHEN $3::bigint > x.cur % 4294967296 THEN 4294967296 ELSE 0 END,
            c.m, c.t, c.op, c.k, imgs.img, $4::pg_lsn, c.n
       FROM c CROSS JOIN x LEFT JOIN imgs ON imgs.r = c.r AND imgs.n = c.i
      ORDER BY c.n
     ON CONFLICT (lsn, seq) WHERE lsn IS NOT NULL DO NOTHING`,
    [JSON.stringify(rows), tx.commitTime.toString(), tx.xid, formatLsn(tx.commitLsn), ...images.map((i) => JSON.stringify(i))],
  );
}

/** Saves how far the log holds the slot's changes. */
export async function savePosition(client: PgClient | Pool, slot: string, lsn: bigint): Promise<void> {
  await client.query(
    `INSERT INTO ferry.wal_position (slot, lsn) VALUES ($1, $2)
     ON CONFLICT (slot) DO UPDATE SET lsn = greatest(ferry.wal_position.lsn, excluded.lsn), updated_at = now()`,
    [slot, formatLsn(lsn)],
  );
}

/** Writes the transactions' log rows in commit order and the position after the last, in one transaction. */
export async function writeTransactions(pool: Pool, slot: string, txs: CommittedTx[], types: ColumnTypes): Promise<number> {
  return withTransaction(pool, async (client) => {
    let written = 0;
    for (const tx of txs) {
      if (!tx.entries.length) continue;
      await insertTx(client, tx, types);
      written += tx.entries.length;
    }
    await savePosition(client, slot, txs[txs.length - 1]!.endLsn);
    return written;
  });
}
