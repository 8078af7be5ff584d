import { ApplicationFailure, Context } from '@temporalio/activity';
import { backfillChunkStatement } from './backfill-sql.js';
import { countSourceRows } from './count-rows.js';
import { mappingByName, type FerryConfig, type Mapping } from '../src/config.js';
import { syncLogWorkflowId, type ApplyResult, type BackfillActivities, type ChunkInput, type ChunkResult, type SyncLogInput } from '../src/contract/index.js';
import { lockIdentity, rowIdentity, withTransaction, type Pool } from '../src/db/index.js';
import { carryLogs } from './carry-logs.js';
import { deleteTarget, markOwnWrite } from './upsert.js';

export interface BackfillDeps {
  pool: Pool;
  config: FerryConfig;
  applyChange: (input: SyncLogInput) => Promise<ApplyResult>;
}

/** The activities of the backfill workflow: count, carry a chunk, remove orphans. */
export function createBackfillActivities({ pool, config, applyChange }: BackfillDeps): BackfillActivities {
  const mappingNamed = (name: string): Mapping => {
    const mapping = mappingByName(config, name);
    if (!mapping) throw ApplicationFailure.nonRetryable(`mapping "${name}" is not in the worker's config`, 'UnknownMapping');
    return mapping;
  };

  return {
    /** Source rows a backfill will read (estimated for big tables without --where). */
    async countBackfillRows({ mapping: name, where, keys }: { mapping: string; where?: string; keys?: string[] }): Promise<number> {
      if (keys) return keys.length;
      return countSourceRows(pool, mappingNamed(name), where);
    },

    /**
     * One chunk: the next `batch` source keys after the cursor get a backfill
     * log each (rows with a pending live change are left to it), and those
     * logs are carried under the same rules as any change.
     */
    async backfillChunk(input: ChunkInput): Promise<ChunkResult> {
      const mapping = mappingNamed(input.mapping);
      const statement = backfillChunkStatement(mapping, { ...input, limit: input.batch });
      const { rows } = await pool.query<{ read: number; last_key: string | null; ids: (string | number)[] }>(statement);
      const { read, last_key: lastKey } = rows[0]!;
      const ids = rows[0]!.ids.map(Number);
      Context.current().heartbeat(0);
      const toInput = (logId: number): SyncLogInput => ({ instance: input.instance, logId, mapping: mapping.name, table: mapping.source.table });
      const logs = ids.map(toInput);
      const concurrency = Math.max(1, Math.min(4, config.database.poolSize - 1));
      const carried = await carryLogs(applyChange, logs, concurrency);
      if (carried.handOff.length) {
        // Each leaves for a syncLog of its own: its log names that workflow.
        await pool.query(
          `UPDATE ferry.database_trigger_log AS l SET workflow_id = w.id
             FROM unnest($1::bigint[], $2::text[]) AS w(log_id, id) WHERE l.id = w.log_id`,
          [carried.handOff, carried.handOff.map((id) => syncLogWorkflowId(input.instance, id))],
        );
      }
      return {
        read,
        lastKey,
        carried: carried.carried,
        skipped: carried.skipped + (read - ids.length),
        handOff: carried.handOff.map(toInput),
        waiters: carried.waiters,
      };
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
          await lockIdentity(client, rowIdentity(mapping.target.table, mapping.target.key, key));
          await markOwnWrite(client, [mapping.source.table]);
          return deleteTarget(client, mapping, key);
        });
      }
      return removed;
    },
  };
}
