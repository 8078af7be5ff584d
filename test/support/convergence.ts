import { exampleMappings } from '../../example/mappings.js';
import type { Row } from '../../src/config.js';
import type { Pool } from '../../src/db/index.js';

/**
 * Counts every committed write to salesforce.account, one row per write, in
 * the writing transaction: a sync cut off by a crash rolls its count back, a
 * write made twice shows twice.
 */
export const TARGET_WRITES_SQL = `
  CREATE TABLE public.target_writes (key text NOT NULL, op text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE FUNCTION public.count_target_write() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO public.target_writes (key, op) VALUES (NEW.portal_user_id__c, TG_OP); RETURN NULL; END $$;
  CREATE TRIGGER count_target_write AFTER INSERT OR UPDATE ON salesforce.account
    FOR EACH ROW EXECUTE FUNCTION public.count_target_write();`;

/** The mapping the fault suite runs: portal.users -> salesforce.account, soft deletes, without the example's parents. */
export const USERS = { ...exampleMappings[0]!, parents: [] };
/** Its source text for a `ferry` child's config (see writeCliConfig). */
export const USERS_SOURCE = '[{ ...exampleMappings[0], parents: [] }]';

export interface Convergence {
  pending: number;
  /** Logs that ended `failed` (none should: nothing here is bad data). */
  failed: string[];
  /** Target keys inserted more than once. */
  insertedTwice: string[];
  /** Target keys written more often than their logs were carried (a change written twice). */
  writtenTwice: string[];
  /** Source rows whose target differs from transform(source), or deleted rows still live in the target. */
  differs: string[];
  logs: number;
  writes: number;
}

const sample = (list: string[]) => (list.length > 10 ? [...list.slice(0, 10), `... ${list.length} in all`] : list);

/**
 * What the fault suite asserts after every case: every log is final, no
 * target row was inserted twice or written more often than its changes were
 * carried, and the target equals transform(latest source) row for row
 * (deleted sources flagged isdeleted). Each list is empty when all is well.
 */
export async function convergence(pool: Pool): Promise<Convergence> {
  const q = async <T extends Row>(sql: string) => (await pool.query<T>(sql)).rows;
  const [{ pending, logs }] = await q<{ pending: number; logs: number }>(
    `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*)::int AS logs FROM ferry.database_trigger_log`,
  );
  const failed = await q<{ id: number; error: string }>(`SELECT id, error FROM ferry.database_trigger_log WHERE status = 'failed' ORDER BY id`);
  const twice = await q<{ key: string; n: number }>(
    `SELECT key, count(*)::int AS n FROM public.target_writes WHERE op = 'INSERT' GROUP BY key HAVING count(*) > 1 ORDER BY key`,
  );
  // A carried change writes at most once (an upsert that would change nothing is not made).
  const over = await q<{ key: string; writes: number; synced: number }>(
    `SELECT w.key, w.writes, coalesce(s.synced, 0) AS synced
       FROM (SELECT key, count(*)::int AS writes FROM public.target_writes GROUP BY key) w
       LEFT JOIN (SELECT row_key AS key, count(*)::int AS synced FROM ferry.database_trigger_log
                   WHERE mapping = '${USERS.name}' AND status = 'synced' GROUP BY row_key) s USING (key)
      WHERE w.writes > coalesce(s.synced, 0) ORDER BY w.key`,
  );
  const [{ writes }] = await q<{ writes: number }>(`SELECT count(*)::int AS writes FROM public.target_writes`);

  const sources = await q<Row>(`SELECT * FROM portal.users ORDER BY id`);
  const targets = new Map((await q<Row>(`SELECT * FROM salesforce.account`)).map((t) => [String(t.portal_user_id__c), t]));
  const differs: string[] = [];
  for (const source of sources) {
    const want = (await USERS.transform(source, { op: 'UPDATE', logId: 0, mapping: USERS.name, parents: {} }))!;
    const got = targets.get(String(source.id));
    targets.delete(String(source.id));
    const wrong = Object.entries(want).filter(([column, value]) => got?.[column] !== value);
    if (wrong.length)
      differs.push(
        `user ${source.id}: ${got ? wrong.map(([c, v]) => `${c} ${JSON.stringify(got[c])} != ${JSON.stringify(v)}`).join(', ') : 'missing'}`,
      );
  }
  for (const [key, t] of targets) if (t.isdeleted !== true) differs.push(`account ${key}: source deleted, target not flagged`);

  return {
    pending,
    failed: sample(failed.map((f) => `${f.id}: ${f.error}`)),
    insertedTwice: sample(twice.map((t) => `${t.key} x${t.n}`)),
    writtenTwice: sample(over.map((o) => `${o.key}: ${o.writes} writes, ${o.synced} synced`)),
    differs: sample(differs),
    logs,
    writes,
  };
}

/** The Convergence of a run where all went well, for toMatchObject. */
export const CONVERGED = { pending: 0, failed: [], insertedTwice: [], writtenTwice: [], differs: [] };
