import pg from 'pg';
import { percentile } from './stats.js';

/** One way an app writes: a statement a connection runs over and over. */
export interface Workload {
  name: string;
  /** Rows one statement writes. */
  rows: number;
  /** Statements per connection and block. */
  perBlock: number;
  /** The statement; `lo` is the first id this connection's block owns (ranges never overlap). */
  sql(table: string, lo: number, i: number): string;
  /** Rows the block needs in place before it runs (DELETE, UPDATE). */
  prefill?: boolean;
}

export const WORKLOADS: Workload[] = [
  {
    name: 'single-row INSERT',
    rows: 1,
    perBlock: 200,
    sql: (t, lo, i) => `INSERT INTO ${t} (id, email, full_name) VALUES (${lo + i}, 'u${i}@example.com', 'User ${i}')`,
  },
  {
    name: '100-row INSERT ... SELECT',
    rows: 100,
    perBlock: 20,
    sql: (t, lo, i) =>
      `INSERT INTO ${t} (id, email, full_name) SELECT g, 'b' || g || '@example.com', 'Batch ' || g FROM generate_series(${lo + i * 100}, ${lo + i * 100 + 99}) g`,
  },
  {
    name: '100-row UPDATE',
    rows: 100,
    perBlock: 20,
    prefill: true,
    // The same 100 rows each time, a new value each time (a real change).
    sql: (t, lo, i) => `UPDATE ${t} SET full_name = 'Updated ${i}' WHERE id BETWEEN ${lo} AND ${lo + 99}`,
  },
  {
    name: '100-row DELETE',
    rows: 100,
    perBlock: 20,
    prefill: true,
    sql: (t, lo, i) => `DELETE FROM ${t} WHERE id BETWEEN ${lo + i * 100} AND ${lo + i * 100 + 99}`,
  },
];

export interface CaptureRatio {
  workload: string;
  /** Statements per second, all connections together (medians of the blocks). */
  mappedPerSec: number;
  unmappedPerSec: number;
  /** mapped rate / unmapped rate, median over adjacent block pairs: 1 means capture costs nothing. */
  ratio: number;
}

export interface TablePair {
  /** A table with capture triggers. */
  mapped: string;
  /** Its twin without them. */
  unmapped: string;
  /** Empties both (and what the triggers wrote) between workloads. */
  clear(client: { query(sql: string): Promise<unknown> }): Promise<unknown>;
}

const TABLES: TablePair = { mapped: 'portal.users', unmapped: 'bench.users_unmapped', clear: clearTables };
const RANGE = 1_000_000; // ids one connection owns per block

/**
 * Each workload on `clients` connections at once, into portal.users (Ferry's
 * triggers) and into an identical table without them, alternating blocks so
 * both see the same background load. Run while no Ferry listens.
 */
export async function measureCapture(
  url: string,
  opts: { clients: number; rounds: number; tables?: TablePair; workloads?: Workload[] },
): Promise<CaptureRatio[]> {
  const tables = opts.tables ?? TABLES;
  const conns = await Promise.all(
    Array.from({ length: opts.clients }, async () => {
      const c = new pg.Client({ connectionString: url, application_name: 'ferry-bench-capture' });
      await c.connect();
      return c;
    }),
  );
  const admin = conns[0]!;
  let block = 0;
  const run = async (w: Workload, table: string): Promise<number> => {
    const base = ++block * RANGE * opts.clients;
    const lo = (c: number) => base + c * RANGE;
    if (w.prefill) {
      // Unlogged by Ferry: the rows are the stage, not the measurement.
      await admin.query(
        // WAL mode: marked as Ferry's own write to the tables it would be carried to, so capture skips it too.
        `BEGIN; SET LOCAL session_replication_role = replica; SELECT ferry.seal_own_write('salesforce.account');
         INSERT INTO ${table} (id, email, full_name)
         SELECT c * ${RANGE} + ${base} + g, 'p@example.com', 'Prefilled'
           FROM generate_series(0, ${opts.clients - 1}) c, generate_series(0, ${w.perBlock * 100 - 1}) g;
         COMMIT`,
      );
    }
    const t0 = performance.now();
    await Promise.all(
      conns.map(async (c, n) => {
        for (let i = 0; i < w.perBlock; i++) await c.query(w.sql(table, lo(n), i));
      }),
    );
    return (opts.clients * w.perBlock) / ((performance.now() - t0) / 1000);
  };
  try {
    const results: CaptureRatio[] = [];
    for (const w of opts.workloads ?? WORKLOADS) {
      await run(w, tables.mapped); // warm-up: plans cached, pages in memory
      await run(w, tables.unmapped);
      const rates = { mapped: [] as number[], unmapped: [] as number[] };
      const ratios: number[] = [];
      for (let round = 0; round < opts.rounds; round++) {
        const order = round % 2 ? (['unmapped', 'mapped'] as const) : (['mapped', 'unmapped'] as const);
        const rate = { mapped: 0, unmapped: 0 };
        for (const which of order) rates[which].push((rate[which] = await run(w, tables[which])));
        ratios.push(rate.mapped / rate.unmapped);
      }
      results.push({
        workload: w.name,
        mappedPerSec: percentile(rates.mapped, 50),
        unmappedPerSec: percentile(rates.unmapped, 50),
        ratio: percentile(ratios, 50),
      });
      await tables.clear(admin);
    }
    return results;
  } finally {
    await Promise.all(conns.map((c) => c.end()));
  }
}

/** Empties both tables and the log between measurements (a TRUNCATE of a mapped table must say so). */
export async function clearTables(client: { query(sql: string): Promise<unknown> }): Promise<void> {
  await client.query(
    `BEGIN; SET LOCAL ferry.allow_truncate = on;
     TRUNCATE ${TABLES.mapped}, ${TABLES.unmapped}, ferry.database_trigger_log RESTART IDENTITY; COMMIT`,
  );
}
