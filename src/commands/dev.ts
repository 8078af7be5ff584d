import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FerryConfig } from '../config.js';
import { withPool } from '../db/index.js';
import type { DevServer } from '../temporal/dev-server.js';
import type { Logger } from '../logger.js';
import { devDatabase, type DevDatabase } from '../dev-database.js';
import { ensureDatabase } from '../capture/migrate.js';
import type { RunOptions } from '../runtime.js';
import { defaultUiUrl } from '../operate/web-ui.js';
import { migrateCommand } from './migrate.js';
import { serveUntilSignal, showStatusIfInteractive } from './serve.js';

/**
 * `ferry dev`: a local Temporal dev server when none answers (first: without
 * a CLI it stops at once), the database (an embedded Postgres when none
 * answers, see dev-database.ts; the database created when missing) and
 * `dev.setupSql`, migrate, then `start`.
 */
export async function devCommand(config: FerryConfig, logger: Logger, serving: Pick<RunOptions, 'http' | 'shutdownGraceTime'>): Promise<number> {
  const { startDevServer, temporalAnswers } = await import('../temporal/dev-server.js');
  let server: DevServer | undefined;
  const address = config.temporal.address;
  let uiUrl = config.temporal.uiUrl ?? defaultUiUrl(address);
  if (await temporalAnswers(address)) {
    logger.info({ address }, 'using the Temporal server that answers');
  } else {
    const port = Number(address.split(':')[1] ?? 7233);
    logger.info({ address }, 'no Temporal server answers: starting a local dev server');
    // Persisted under .ferry/, so workflows (and their history in the Web UI) survive a restart.
    mkdirSync('.ferry', { recursive: true });
    server = await startDevServer({
      ip: '127.0.0.1',
      port,
      namespaces: [config.temporal.namespace],
      dbFilename: path.resolve('.ferry/temporal-dev.db'),
    });
    uiUrl = server.uiUrl ?? uiUrl;
  }
  const stopServers = async () => {
    await database?.stop();
    await server?.stop();
  };
  let database: DevDatabase | undefined;
  try {
    database = await devDatabase(config.database.url, logger);
    config = { ...config, database: { ...config.database, url: database.url } };
    if (await ensureDatabase(config.database.url)) logger.info({ database: new URL(config.database.url).pathname.slice(1) }, 'database created');
    await withPool(config.database.url, 1, async (pool) => {
      for (const file of config.dev.setupSql) await pool.query(readFileSync(file, 'utf8'));
    });
  } catch (err) {
    await stopServers();
    throw err;
  }
  const code = await migrateCommand(config, logger);
  if (code !== 0) {
    await stopServers();
    return code;
  }
  const { runFerry } = await import('../runtime.js');
  const proc = await runFerry({ config, logger, listen: true, work: true, ...serving });
  await proc.workerReady;
  logger.info({ webUi: `${uiUrl}/namespaces/${config.temporal.namespace}/workflows` }, `Ferry is running. Temporal Web UI: ${uiUrl}`);
  const stopDisplay = await showStatusIfInteractive(proc, config, uiUrl);
  return serveUntilSignal(proc, logger, async () => {
    stopDisplay?.();
    await stopServers();
  });
}
