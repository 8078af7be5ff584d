import pg from 'pg';
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/capture_micro' });
await c.connect();
const tables = ['bench.users_unmapped', 'bench.u2', 'bench.u3'];
const res: Record<string, number[]> = {};
for (let round = 0; round < 6; round++) for (const t of tables) {
  await c.query('BEGIN');
  const t0 = performance.now();
  for (let i = 0; i < 300; i++) await c.query(`INSERT INTO ${t} (id, full_name) VALUES ($1, 'x')`, [1000000 + round * 1000 + i]);
  (res[t] ??= []).push((performance.now() - t0) / 300 * 1000);
  await c.query('ROLLBACK');
}
for (const [t, v] of Object.entries(res)) console.log(t, v.sort((a, b) => a - b).map((x) => x.toFixed(0)).join(' '), 'µs/stmt');
await c.end();
