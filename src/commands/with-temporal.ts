import type { Client } from '@temporalio/client';
import type { FerryConfig } from '../config.js';
import { withPool, type Pool } from '../db/index.js';
import type { Logger } from '../logger.js';

/** A pool of two and a Temporal client for `fn`, both closed after it (replay, retry). */
export async function withTemporal<T>(config: FerryConfig, logger: Logger, fn: (pool: Pool, client: Client) => Promise<T>): Promise<T> {
  // The Temporal client loads here, when a command needs it, not with the module.
  const { connectClient } = await import('../temporal/client.js');
  return withPool(config.database.url, 2, async (pool) => {
    const client = await connectClient(config, logger);
    try {
      return await fn(pool, client);
    } finally {
      await client.connection.close();
    }
  });
}
