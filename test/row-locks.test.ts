// The single-row lane and the batch lane exclude each other on a row only
// while they lock it under one key: both must send the same statement.
import { describe, expect, it } from 'vitest';
import { singleRowIO } from '../activities/carry-io.js';
import { BatchIO } from '../activities/batch-io.js';
import type { FerryConfig, Mapping } from '../src/config.js';
import { lockStatement, tableRowName, type PgClient } from '../src/db/index.js';

// Locking reads neither the config nor the mapping.
const config = {} as FerryConfig;
const mapping = { name: 'users' } as Mapping;

/** A client that records what it is sent and answers every statement with no rows. */
function recorder(): { client: PgClient; sent: unknown[] } {
  const sent: unknown[] = [];
  const query = async (statement: unknown, values?: unknown[]) => {
    sent.push(values === undefined ? statement : { text: statement, values });
    return { rows: [], rowCount: 0 };
  };
  return { client: { query } as unknown as PgClient, sent };
}

describe('row locks', () => {
  const identity = tableRowName('salesforce.account', 'ext_id', 42);

  it('take the same key on both lanes, exclusive and shared', async () => {
    for (const shared of [false, true]) {
      const single = recorder();
      await singleRowIO(single.client, config).lock(identity, shared);
      const batch = recorder();
      const io = new BatchIO(batch.client, config, mapping);
      if (shared) await io.lock(identity, true);
      else await io.lockBeforeJudging(identity);
      expect(single.sent).toEqual([lockStatement([identity], shared)]);
      expect(batch.sent).toEqual(single.sent);
    }
  });

  it('lock many identities in one sorted order, so two lockers never deadlock', () => {
    const statement = lockStatement(['b|k|2', 'a|k|1', 'c|k|3']);
    expect(statement.values).toEqual([['a|k|1', 'b|k|2', 'c|k|3']]);
    expect(statement.text).toContain('pg_advisory_xact_lock(hashtextextended(i, 0))');
    expect(lockStatement(['a'], true).text).toContain('pg_advisory_xact_lock_shared(hashtextextended(i, 0))');
  });
});
