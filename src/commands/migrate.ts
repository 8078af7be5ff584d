import type { OutputFormat } from '../cli/common-options.js';
import { emit } from '../cli/output.js';
import type { FerryConfig } from '../config.js';
import { withPool } from '../db/index.js';
import type { Logger } from '../logger.js';
import { migrate } from '../capture/migrate.js';
import { connectOnce, registerSearchAttributes } from '../temporal/client.js';

/** `ferry migrate`: the database side, then the search attributes in the namespace. */
export async function migrateCommand(config: FerryConfig, logger: Logger, output: OutputFormat = 'text'): Promise<number> {
  const result = await withPool(config.database.url, 1, (pool) => migrate(pool, config));
  logger.info(result, 'database migrated');
  let client;
  try {
    client = await connectOnce(config);
  } catch (err) {
    if ((err as Error).name === 'TemporalAccessError') throw err;
    logger.error(
      { address: config.temporal.address, err: (err as Error).message.split('\n')[0] },
      'Temporal unreachable: search attributes not registered; run `ferry migrate` again once it is up',
    );
    if (output === 'json') emit(output, { database: result, searchAttributes: null }, () => '');
    return 1;
  }
  try {
    const added = await registerSearchAttributes(client, config.temporal.namespace);
    logger.info({ namespace: config.temporal.namespace, added }, 'search attributes in place');
    if (output === 'json') emit(output, { database: result, searchAttributes: { namespace: config.temporal.namespace, added } }, () => '');
  } finally {
    await client.connection.close();
  }
  return 0;
}
