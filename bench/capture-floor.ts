// `npm run bench:capture-floor`: what each part of a log row costs the app's
// own statements, and so what ratio any log of this kind could reach.
//
// The workloads of the capture figures (capture.ts: 4 connections, mapped /
// unmapped, blocks alternated) run against copies of portal.users whose
// triggers are Ferry's own capture function (src/statements.ts, poll mode),
// writing into copies of ferry.database_trigger_log that hold ever more of
// it: no index at all, then the primary key, then the dispatcher's index,
// then all of it (the pending index by row). Two more rows bound it from
// below: the triggers with no mapping (the transition tables alone), and the
// unindexed log without the old image. BENCH_FLOOR_ROUNDS (default 3).
import { WORKLOADS, measureCapture, type CaptureRatio } from './capture.js';
import { benchConfig, createBenchDatabase, migrateBench } from './setup.js';
import { createTriggerStatements, type TriggerMapping } from '../src/statements.js';

const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROUNDS = Number(process.env.BENCH_FLOOR_ROUNDS ?? 3);
const MAPPING: TriggerMapping = { name: 'users_to_accounts', key: 'id', target: 'salesforce.account' };
const LOG = 'ferry.database_trigger_log';

interface Variant {
  name: string;
  /** The copy of the log, created from Ferry's (LIKE), or none. */
  log?: string;
  mappings: TriggerMapping[];
  /** Indexes of Ferry's log (sql/001) to copy onto it, as Postgres defines them. */
  indexes?: string[];
  /** The capture function as migrate writes it, or changed. */
  edit?: (sql: string) => string;
}

const VARIANTS: Variant[] = [
  { name: 'triggers, no mapping (transition tables only)', mappings: [] },
  {
    name: 'log, no index, no old image',
    log: `(LIKE ${LOG} INCLUDING DEFAULTS)`,
    mappings: [MAPPING],
    edit: (sql) => sql.replace(/to_jsonb\((ferry_o|o\.rec)\)/g, 'NULL::jsonb'),
  },
  { name: 'log, no index', log: `(LIKE ${LOG} INCLUDING DEFAULTS)`, mappings: [MAPPING] },
  { name: '+ primary key', log: `(LIKE ${LOG} INCLUDING DEFAULTS, PRIMARY KEY (id))`, mappings: [MAPPING] },
  {
    name: '+ undispatched index',
    log: `(LIKE ${LOG} INCLUDING DEFAULTS, PRIMARY KEY (id))`,
    indexes: ['database_trigger_log_undispatched'],
    mappings: [MAPPING],
  },
  { name: "+ pending and waiting indexes (Ferry's log)", log: `(LIKE ${LOG} INCLUDING ALL)`, mappings: [MAPPING] },
];

const db = await createBenchDatabase(ADMIN_URL, 'ferry_bench_floor');
try {
  await migrateBench(benchConfig(db.url, '127.0.0.1:7233'));
  await db.pool.query('CREATE SCHEMA floor');
  const results: { variant: string; ratios: CaptureRatio[] }[] = [];
  for (const [i, v] of VARIANTS.entries()) {
    const table = `floor.users_${i}`;
    const log = v.log ? `floor.log_${i}` : LOG;
    await db.pool.query(`CREATE TABLE ${table} (LIKE bench.users_unmapped INCLUDING ALL)`);
    if (v.log) await db.pool.query(`CREATE TABLE ${log} ${v.log}`);
    for (const name of v.indexes ?? []) {
      const { rows } = await db.pool.query<{ def: string }>(`SELECT pg_get_indexdef(to_regclass($1)) AS def`, [`ferry.${name}`]);
      await db.pool.query(rows[0]!.def.replace(/^CREATE INDEX \S+ ON \S+/, `CREATE INDEX ON ${log}`));
    }
    for (const sql of createTriggerStatements(table, v.mappings, '', log)) await db.pool.query(v.edit ? v.edit(sql) : sql);
    console.error(`[capture-floor] ${v.name}`);
    const ratios = await measureCapture(db.url, {
      clients: 4,
      rounds: ROUNDS,
      tables: {
        mapped: table,
        unmapped: 'bench.users_unmapped',
        clear: (c) => c.query(`BEGIN; SET LOCAL ferry.allow_truncate = on; TRUNCATE ${table}, bench.users_unmapped, ${log}; COMMIT`),
      },
    });
    results.push({ variant: v.name, ratios });
  }
  const width = Math.max(...VARIANTS.map((v) => v.name.length));
  console.log(`\ncapture floor: mapped / unmapped, 4 connections, medians of ${ROUNDS} rounds, poll mode (${new Date().toISOString()})`);
  console.log(`${'log'.padEnd(width)}  ${WORKLOADS.map((w) => w.name.padStart(26)).join('')}`);
  for (const r of results) console.log(`${r.variant.padEnd(width)}  ${r.ratios.map((c) => c.ratio.toFixed(2).padStart(26)).join('')}`);
} finally {
  await db.drop();
}
