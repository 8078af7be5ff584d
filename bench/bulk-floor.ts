// `npm run bench:bulk-floor`: what carrying a burst costs at the least, for
// any design that keeps a log row per change and says in it what happened
// (floor-loop.ts): each variant against a plain loop run just before it on
// the same fresh 20,000 rows. BENCH_FLOOR_ROUNDS (default 2).
import { FLOOR_VARIANTS, runFloorRound } from './floor-loop.js';
import { benchConfig, createBenchDatabase, migrateBench } from './setup.js';

const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROUNDS = Number(process.env.BENCH_FLOOR_ROUNDS ?? 2);
const ROWS = 20_000;

const db = await createBenchDatabase(ADMIN_URL, 'ferry_bench_floor');
try {
  await migrateBench(benchConfig(db.url, '127.0.0.1:7233'));
  const results = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++)
    for (const v of FLOOR_VARIANTS) {
      const { rate, plainRate } = await runFloorRound(db.pool, ROWS, v.steps);
      console.error(`[bulk-floor] ${v.name}: ${rate.toFixed(0)} rows/s, plain loop ${plainRate.toFixed(0)}`);
      results.set(v.name, [...(results.get(v.name) ?? []), rate / plainRate]);
    }
  const width = Math.max(...FLOOR_VARIANTS.map((v) => v.name.length));
  console.log(`\nbulk floor: ${ROWS} rows, pages of 500, rate / the plain loop's just before it, ${ROUNDS} rounds (${new Date().toISOString()})`);
  for (const [name, ratios] of results) console.log(`${name.padEnd(width)}  ${ratios.map((r) => r.toFixed(2)).join('  ')}`);
} finally {
  await db.drop();
}
