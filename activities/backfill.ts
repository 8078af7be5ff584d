import { ApplicationFailure } from '@temporalio/activity';
import { backfillLogsStatement, chunkKeysStatement, type ChunkSpec } from './backfill-sql.js';
import { countSourceRows } from './count-rows.js';
import { mappingByName, type FerryConfig, type Mapping, type Row } from '../src/config.js';
import {
  BAD_BACKFILL_RUN,
  BAD_WHERE,
  type BackfillActivities,
  type BackfillProgress,
  type BatchResult,
  type ChunkInput,
  type ChunkResult,
} from '../src/contract/index.js';
import {
  backfillInputs,
  backfillRuns,
  lockIdentity,
  tableRowName,
  withTransaction,
  type PgClient,
  type Pool,
  type Queryable,
} from '../src/db/index.js';
import { quoteIdent, quoteTable } from '../src/statements.js';
import { runTransform } from './transform.js';
import { whileHeartbeating } from './heartbeat.js';
import { whereProblemOn } from '../src/where.js';
import { deleteTarget, markOwnWrite } from './upsert.js';

export interface BackfillDeps {
  pool: Pool;
  config: FerryConfig;
  /** The batch lane's chunk carrier (carry-batch.ts): one transaction, set-based, the rules of a single sync. */
  carryAsBatch: (logIds: number[], carrier: string) => Promise<BatchResult>;
}

const ENDED: (BackfillProgress['state'] | 'failed')[] = ['done', 'cancelled', 'failed'];

/** What a chunk reads: its spec, and (a run with a runId) whether keys remain after its slice. */
type ChunkScope = Omit<ChunkSpec, 'limit'> & { moreKeys?: boolean };

/**
 * The activities of the backfill workflow: count, carry a chunk, remove
 * orphans. A run's --where and keys come from ferry.backfill_inputs by its
 * run id (a run started before that table: from its input), read in a READ
 * ONLY transaction apart from the statements that write.
 */
export function createBackfillActivities({ pool, config, carryAsBatch }: BackfillDeps): BackfillActivities {
  const mappingNamed = (name: string): Mapping => {
    const mapping = mappingByName(config, name);
    if (!mapping) throw ApplicationFailure.nonRetryable(`mapping "${name}" is not in the worker's config`, 'UnknownMapping');
    return mapping;
  };
  const readOnly = <T>(fn: (client: PgClient) => Promise<T>) => withTransaction(pool, fn, { readOnly: true });
  /** A run's row, which must be of the workflow's mapping: whoever started the workflow, it names only runs saved for it. */
  const runRow = <T extends { mapping: string }>(mapping: Mapping, runId: number, row: T | undefined): T => {
    if (!row || row.mapping !== mapping.name)
      throw ApplicationFailure.nonRetryable(`backfill run ${runId} is not a run of mapping ${mapping.name}`, BAD_BACKFILL_RUN);
    return row;
  };

  /**
   * The CLI checked --where, but a workflow can be started without it, and
   * the table can be written by others than the CLI: the text goes into
   * Ferry's statements only once it is checked here too.
   */
  const checkWhere = async (db: Queryable, mapping: Mapping, where: string | undefined): Promise<void> => {
    const problem = where ? await whereProblemOn(db, mapping.source.table, where) : undefined;
    if (problem) throw ApplicationFailure.nonRetryable(`--where on ${mapping.source.table} refused: ${problem}`, BAD_WHERE);
  };

  /**
   * Postgres refusing a run's --where or keys as it reads them (a value that
   * does not cast to the key's type, a type mismatch): no retry fixes that.
   */
  const refusedInput = <T>(mapping: Mapping, read: Promise<T>): Promise<T> =>
    read.catch((err) => {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'string' || !/^(22|42)/.test(code)) throw err;
      throw ApplicationFailure.nonRetryable(`--where or keys on ${mapping.source.table} refused by Postgres (SQLSTATE ${code})`, BAD_WHERE);
    });

  /** Chunk `chunk` of a run: the slice of its repair keys, or its --where and cursor. */
  const runChunk = async (client: PgClient, mapping: Mapping, runId: number, chunk: number, batch: number): Promise<ChunkScope> => {
    const row = runRow(mapping, runId, await backfillInputs.chunk(client, runId, chunk, batch));
    // The row is at this chunk, or at the next when this chunk ran before (its activity is retried).
    if (row.chunk !== chunk && row.chunk !== chunk + 1)
      throw ApplicationFailure.nonRetryable(`backfill run ${runId} is at chunk ${row.chunk}, not ${chunk}`, BAD_BACKFILL_RUN);
    return { where: row.where, keys: row.keys, after: row.after, moreKeys: row.moreKeys };
  };

  return {
    /** Source rows a backfill will read (estimated for big tables without --where). */
    async countBackfillRows(input: { mapping: string; runId?: number; where?: string; keys?: string[] }): Promise<number> {
      const mapping = mappingNamed(input.mapping);
      return readOnly(async (client) => {
        const scope =
          input.runId === undefined
            ? { ...input, keys: input.keys?.length ?? null }
            : runRow(mapping, input.runId, await backfillInputs.scope(client, input.runId));
        if (scope.keys !== null) return scope.keys;
        await checkWhere(client, mapping, scope.where);
        return refusedInput(mapping, countSourceRows(client, mapping, scope.where));
      });
    },

    /**
     * One chunk: the next `batch` source keys after the cursor (or the next
     * repair keys) are read in a READ ONLY transaction; each gets a backfill
     * log (rows with a pending live change are left to it), and those logs
     * are carried as one batch, under the same rules as any change; a row
     * that must wait or fails leaves for its own syncLog.
     */
    backfillChunk(input: ChunkInput): Promise<ChunkResult> {
      return whileHeartbeating(async () => {
        const mapping = mappingNamed(input.mapping);
        const { runId, chunk = 0 } = input;
        const { scope, rowKeys } = await readOnly(async (client) => {
          const scope: ChunkScope = runId === undefined ? input : await runChunk(client, mapping, runId, chunk, input.batch);
          if (!scope.keys) await checkWhere(client, mapping, scope.where);
          const { rows } = await refusedInput(
            mapping,
            client.query<{ row_key: string }>(chunkKeysStatement(mapping, { ...scope, limit: input.batch })),
          );
          return { scope, rowKeys: rows.map((r) => r.row_key) };
        });
        const { rows } = await pool.query<{ ids: (string | number)[] }>(backfillLogsStatement(mapping, rowKeys, input.workflowId));
        const ids = rows[0]!.ids.map(Number);
        // The backfill logs are stamped with this workflow's id: the chunk carrier takes them as a batch's.
        const carried = await carryAsBatch(ids, input.workflowId);
        const read = rowKeys.length;
        const lastKey = rowKeys[read - 1] ?? null;
        // A run's cursor stays in its row: a key is not for history.
        if (runId !== undefined) await backfillInputs.advance(pool, runId, chunk, lastKey);
        return {
          read,
          lastKey: runId === undefined ? lastKey : null,
          ...(runId !== undefined ? { done: scope.keys ? !scope.moreKeys : read < input.batch } : {}),
          carried: carried.synced,
          skipped: carried.skipped + (read - ids.length),
          byMapping: carried.byMapping,
          handOff: carried.leftover,
          waiters: carried.waiters,
        };
      });
    },

    /** The progress for `ferry status`, with the run's cursor from its row; a run that ended leaves no inputs behind. */
    async recordBackfill(workflowId, progress, state, runId): Promise<void> {
      const cursor = runId === undefined ? progress.cursor : await backfillInputs.cursorOf(pool, runId);
      await backfillRuns.record(pool, workflowId, { ...progress, cursor }, state);
      if (runId !== undefined && ENDED.includes(state ?? progress.state)) await backfillInputs.remove(pool, runId);
    },

    /**
     * Repair: applies onDelete to target rows whose source is gone, each in
     * its own transaction under the target row's lock, as Ferry's own write.
     */
    async removeOrphans(input: { mapping: string; runId?: number; keys?: string[] }): Promise<number> {
      const mapping = mappingNamed(input.mapping);
      const { runId } = input;
      const keys =
        runId === undefined ? (input.keys ?? []) : runRow(mapping, runId, await readOnly((client) => backfillInputs.orphans(client, runId))).keys;
      let removed = 0;
      for (const key of keys) {
        removed += await withTransaction(pool, async (client) => {
          await lockIdentity(client, tableRowName(mapping.target.table, mapping.target.key, key));
          // Whoever wrote the keys, a live row's target stays.
          if (await stillProduced(client, mapping, key)) return 0;
          await markOwnWrite(client, [mapping.source.table]);
          return deleteTarget(client, mapping, key);
        });
      }
      return removed;
    },
  };
}

/**
 * Whether a source row still produces this target key: the row whose source
 * key reads as that text (the usual mapping of key to key), transformed. A
 * transform that throws on it counts as producing it: nothing is deleted on a guess.
 */
async function stillProduced(client: PgClient, mapping: Mapping, targetKey: string): Promise<boolean> {
  const { rows } = await client.query<{ row: Row }>(
    `SELECT to_jsonb(ferry_t) AS row FROM ${quoteTable(mapping.source.table)} ferry_t WHERE ferry_t.${quoteIdent(mapping.source.key)}::text = $1`,
    [targetKey],
  );
  for (const { row } of rows) {
    const out = await runTransform(mapping, row, { op: 'UPDATE', logId: 0, mapping: mapping.name, parents: {} }).catch(() => undefined);
    if (out === undefined || String(out?.[mapping.target.key]) === targetKey) return true;
  }
  return false;
}
