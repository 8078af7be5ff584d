import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FerryConfig } from '../config.js';
import { withPool } from '../db.js';
import type { DevServer } from '../dev-server.js';
import type { Logger } from '../logger.js';
import { ensureDatabase } from '../migrate.js';
import type { RunOptions } from '../runtime.js';
import { defaultUiUrl } from '../temporal.js';
import { migrateCommand } from './migrate.js';
import { serveUntilSignal, showStatusIfInteractive } from './serve.js';

/**
 * `ferry dev`: database (created when missing) and `dev.setupSql`, a local
 * Temporal dev server when none answers, migrate, then `start`.
 */
export async function devCommand(config: FerryConfig, logger: Logger, serving: Pick<RunOptions, 'http' | 'shutdownGraceTime'>): Promise<number> {
  if (await ensureDatabase(config.database.url)) logger.info({ database: new URL(config.database.url).pathname.slice(1) }, 'database created');
  await withPool(config.database.url, 1, async (pool) => {
    for (const file of config.dev.setupSql) await pool.query(readFileSync(file, 'utf8'));
  });
  const { startDevServer, temporalAnswers } = await import('../dev-server.js');
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
    server = await startDevServer({ ip: '127.0.0.1', port, namespaces: [config.temporal.namespace], dbFilename: path.resolve('.ferry/temporal-dev.db') });
    uiUrl = server.uiUrl ?? uiUrl;
  }
  const code = await migrateCommand(config, logger);
  if (code !== 0) {
    await server?.stop();
    return code;
  }
  const { runFerry } = await import('../runtime.js');
  const proc = await runFerry({ config, logger, listen: true, work: true, ...serving });
  await proc.workerReady;
  logger.info({ webUi: `${uiUrl}/namespaces/${config.temporal.namespace}/workflows` }, `Ferry is running. Temporal Web UI: ${uiUrl}`);
  const stopDisplay = await showStatusIfInteractive(proc, config, uiUrl);
  return serveUntilSignal(proc, logger, async () => {
    stopDisplay?.();
    await server?.stop();
  });
}
