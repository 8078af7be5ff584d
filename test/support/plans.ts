import { withTransaction, type Pool } from '../../src/db/index.js';

/**
 * The plans of the statements `run` sends, each run under EXPLAIN (ANALYZE)
 * in one transaction that is rolled back: the rows stay as they were. `run`
 * gets a Queryable that explains instead of returning rows, so what it reads
 * back is empty. `options`: EXPLAIN's, e.g. 'ANALYZE, BUFFERS'.
 */
export async function plansOf(pool: Pool, run: (explaining: Pool) => Promise<unknown>, options = 'ANALYZE, BUFFERS'): Promise<string> {
  const out: string[] = [];
  await withTransaction(pool, async (tx) => {
    const explaining = {
      query: async (text: string, values?: unknown[]) => {
        const { rows } = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN (${options}) ${text}`, values);
        out.push(...rows.map((r) => r['QUERY PLAN']));
        return { rows: [{ logs: [], backlog: [] }], rowCount: 0 };
      },
    } as unknown as Pool;
    await run(explaining);
    await tx.query('ROLLBACK; BEGIN'); // withTransaction commits what is left: an empty transaction
  });
  return out.join('\n');
}
