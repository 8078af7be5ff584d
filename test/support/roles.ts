// Roles of the trust boundary (docs/trust-boundary.md) for tests that run
// Ferry as they would be in production: an owner that migrates, a runtime
// role that runs, each with only the grants the docs list.
import { inject } from 'vitest';
import { parseConfig, type FerryConfig } from '../../src/config.js';
import { createPool, type Pool } from '../../src/db/index.js';
import { silentLogger } from '../../src/logger.js';
import { migrate } from '../../src/capture/migrate.js';
import { runFerry, type FerryProcess } from '../../src/runtime.js';

/** The owner: creates schema ferry and the triggers. */
export const ownerGrants = (owner: string, database: string) => `
  CREATE ROLE ${owner} LOGIN;
  GRANT CREATE ON DATABASE ${database} TO ${owner};                       -- schema ferry
  GRANT USAGE ON SCHEMA portal, salesforce TO ${owner};
  GRANT TRIGGER ON ALL TABLES IN SCHEMA portal, salesforce TO ${owner};  -- the capture triggers`;

/** The runtime role (after migrate): keeps the log, reads sources, writes targets. */
export const runnerGrants = (runner: string) => `
  CREATE ROLE ${runner} LOGIN;
  GRANT USAGE ON SCHEMA ferry TO ${runner};
  GRANT SELECT, INSERT, UPDATE, DELETE ON ferry.database_trigger_log, ferry.optional_waits, ferry.backfill_runs, ferry.backfill_inputs, ferry.paused_mappings TO ${runner};
  GRANT USAGE ON ALL SEQUENCES IN SCHEMA ferry TO ${runner};
  GRANT USAGE ON SCHEMA portal, salesforce TO ${runner};
  GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA portal, salesforce TO ${runner};
  GRANT USAGE ON ALL SEQUENCES IN SCHEMA portal, salesforce TO ${runner};`;

export function urlAs(url: string, role: string): string {
  const u = new URL(url);
  u.username = role;
  return u.toString();
}

/** The config with its database URL logging in as `role`. */
export function configAs(config: FerryConfig, role: string): FerryConfig {
  return parseConfig({ ...config, database: { ...config.database, url: urlAs(config.database.url, role) } }, {});
}

export async function dropRoles(pool: Pool, roles: string[]): Promise<void> {
  for (const role of roles)
    await pool.query(`DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
      EXECUTE 'REASSIGN OWNED BY ${role} TO postgres'; EXECUTE 'DROP OWNED BY ${role}'; EXECUTE 'DROP ROLE ${role}'; END IF; END $$`);
}

/** `ferry migrate` as `owner`. */
export async function migrateAs(config: FerryConfig, owner: string): Promise<void> {
  const pool = createPool(urlAs(config.database.url, owner), 1);
  try {
    await migrate(pool, configAs(config, owner));
  } finally {
    await pool.end();
  }
}

/** `ferry start` in this process as `runner`. */
export async function startAs(config: FerryConfig, runner: string): Promise<FerryProcess> {
  const ferry = await runFerry({
    config: configAs(config, runner),
    logger: silentLogger,
    listen: true,
    work: true,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    shutdownGraceTime: '5s',
  });
  await ferry.workerReady;
  return ferry;
}
