import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startLocalPostgres } from './local-postgres.js';
import { freePort, portAnswers } from './net.js';
import type { Logger } from './logger.js';

export const DEV_PG_DIR = '.ferry/pg';
const PORT_FILE = '.ferry/pg.port';
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface DevDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * `ferry dev`'s database: the configured one when DATABASE_URL is set, when
 * it is not on this machine, or when it answers; else an embedded Postgres
 * with its data in .ferry/pg (kept across runs), on the port it had last time
 * when that is free, and the config's database name.
 */
export async function devDatabase(configured: string, logger: Logger, env = process.env): Promise<DevDatabase> {
  const url = new URL(configured);
  const port = Number(url.port || 5432);
  if (env.DATABASE_URL || !LOCAL_HOSTS.has(url.hostname) || (await portAnswers(url.hostname, port))) {
    logger.info({ database: redacted(url) }, `database: ${redacted(url)}`);
    return { url: configured, stop: async () => {} };
  }
  const dataDir = path.resolve(DEV_PG_DIR);
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const pg = await startLocalPostgres({ dataDir, port: await rememberedPort() });
  writeFileSync(PORT_FILE, `${pg.port}\n`);
  url.hostname = '127.0.0.1';
  url.port = String(pg.port);
  logger.info(
    { database: redacted(url), dataDir },
    `database: nothing answers at ${configured.split('@').pop()?.split('/')[0]}, so an embedded Postgres runs at ${redacted(url)} (data in ${DEV_PG_DIR}); it stops with Ferry`,
  );
  return { url: url.toString(), stop: () => pg.stop() };
}

async function rememberedPort(): Promise<number> {
  const last = existsSync(PORT_FILE) ? Number(readFileSync(PORT_FILE, 'utf8').trim()) : 0;
  if (last > 0 && !(await portAnswers('127.0.0.1', last, 300))) return last;
  return freePort();
}

function redacted(url: URL): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
