import { ApplicationFailure } from '@temporalio/activity';
import { backfillChunkStatement } from './backfill-sql.js';
import { countSourceRows } from './count-rows.js';
import { mappingByName, type FerryConfig, type Mapping, type Row } from '../src/config.js';
import { BAD_WHERE, type BackfillActivities, type BatchResult, type ChunkInput, type ChunkResult } from '../src/contract/index.js';
import { backfillRuns, lockIdentity, tableRowName, withTransaction, type PgClient, type Pool } from '../src/db/index.js';
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

/** The activities of the backfill workflow: count, carry a chunk, remove orphans. */
export function createBackfillActivities({ pool, config, carryAsBatch }: BackfillDeps): BackfillActivities {
  const mappingNamed = (name: string): Mapping => {
    const mapping = mappingByName(config, name);
    if (!mapping) throw ApplicationFailure.nonRetryable(`mapping "${name}" is not in the worker's config`, 'UnknownMapping');
    return mapping;
  };

  /**
   * The CLI checked --where, but a workflow can be started without it: the
   * text goes into Ferry's statements only once it is checked here too.
   */
  const checkWhere = async (mapping: Mapping, where: string | undefined): Promise<void> => {
    const problem = where ? await whereProblemOn(pool, mapping.source.table, where) : undefined;
    if (problem) throw ApplicationFailure.nonRetryable(`--where on ${mapping.source.table} refused: ${problem}`, BAD_WHERE);
  };

  return {
    /** Source rows a backfill will read (estimated for big tables without --where). */
    async countBackfillRows({ mapping: name, where, keys }: { mapping: string; where?: string; keys?: string[] }): Promise<number> {
      if (keys) return keys.length;
      const mapping = mappingNamed(name);
      await checkWhere(mapping, where);
      return countSourceRows(pool, mapping, where);
    },

    /**
     * One chunk: the next `batch` source keys after the cursor get a backfill
     * log each (rows with a pending live change are left to it), and those
     * logs are carried as one batch, under the same rules as any change; a
     * row that must wait or fails leaves for its own syncLog.
     */
    backfillChunk(input: ChunkInput): Promise<ChunkResult> {
      return whileHeartbeating(async () => {
        const mapping = mappingNamed(input.mapping);
        if (!input.keys) await checkWhere(mapping, input.where);
        const statement = backfillChunkStatement(mapping, { ...input, limit: input.batch });
        const { rows } = await pool.query<{ read: number; last_key: string | null; ids: (string | number)[] }>(statement);
        const { read, last_key: lastKey } = rows[0]!;
        const ids = rows[0]!.ids.map(Number);
        // The backfill logs are stamped with this workflow's id: the chunk carrier takes them as a batch's.
        const carried = await carryAsBatch(ids, input.workflowId);
        return {
          read,
          lastKey,
          carried: carried.synced,
          skipped: carried.skipped + (read - ids.length),
          byMapping: carried.byMapping,
          handOff: carried.leftover,
          waiters: carried.waiters,
        };
      });
    },

    async recordBackfill(workflowId, progress, state): Promise<void> {
      await backfillRuns.record(pool, workflowId, progress, state);
    },

    /**
     * Repair: applies onDelete to target rows whose source is gone, each in
     * its own transaction under the target row's lock, as Ferry's own write.
     */
    async removeOrphans({ mapping: name, keys }: { mapping: string; keys: string[] }): Promise<number> {
      const mapping = mappingNamed(name);
      let removed = 0;
      for (const key of keys) {
        removed += await withTransaction(pool, async (client) => {
          await lockIdentity(client, tableRowName(mapping.target.table, mapping.target.key, key));
          // The keys come from the workflow's input: whoever started it, a live row's target stays.
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
