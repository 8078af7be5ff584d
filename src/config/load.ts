// Loading a config: the file (a .ts through tsx), the environment's
// overrides, the schema, then the checks across mappings.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveCodec } from './codec-keys.js';
import { ConfigError } from './errors.js';
import { importConfigModule } from './import-module.js';
import { checkMappings } from './resolve.js';
import { configSchema, type FerryConfig } from './schema.js';
import { temporalBlock } from './temporal-env.js';

function keyPath(segments: readonly PropertyKey[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? String(s) : `.${String(s)}`)).join('');
}

/** Applies the environment overrides the contract names (and a temporal.toml profile under the file); they win over the file. */
function withEnv(raw: Record<string, any>, env: NodeJS.ProcessEnv): Record<string, any> {
  const out: Record<string, any> = { ...raw, database: { ...(raw.database ?? {}) }, temporal: temporalBlock(raw.temporal ?? {}, env) };
  if (env.DATABASE_URL) out.database.url = env.DATABASE_URL;
  if (env.FERRY_TASK_QUEUE) out.temporal.taskQueue = env.FERRY_TASK_QUEUE;
  if (env.TEMPORAL_UI_URL) out.temporal.uiUrl = env.TEMPORAL_UI_URL;
  if (env.FERRY_INSTANCE) out.instance = env.FERRY_INSTANCE;
  return out;
}

/** Validates a config object; throws ConfigError naming the first bad key. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): FerryConfig {
  if (raw === null || typeof raw !== 'object') throw new ConfigError('config: the default export must be an object');
  const result = configSchema.safeParse(withEnv(raw as Record<string, any>, env));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length ? keyPath(issue.path) : '(top level)';
    throw new ConfigError(`config: ${where}: ${issue.message}`);
  }
  const mappings = checkMappings(result.data.mappings);
  const { codec, ...temporal } = result.data.temporal;
  return {
    ...result.data,
    temporal: codec ? { ...temporal, codec: resolveCodec(codec, env) } : temporal,
    instance: result.data.instance ?? instanceOf(result.data.database.url),
    mappings,
  };
}

/** The default instance: the database's name, lower-cased, other characters as "-". */
export function instanceOf(databaseUrl: string): string {
  let name: string;
  try {
    const url = new URL(databaseUrl);
    name = decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username) || 'postgres';
  } catch {
    throw new ConfigError('config: instance: cannot tell the database name from database.url; set instance');
  }
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '-');
}

/** Where the config lives: --config, then FERRY_CONFIG, then ferry.config.{ts,mjs,js} here. */
export function resolveConfigPath(explicit: string | undefined, env = process.env, cwd = process.cwd()): string {
  const given = explicit ?? env.FERRY_CONFIG;
  if (given) {
    const p = path.resolve(cwd, given);
    if (!existsSync(p)) throw new ConfigError(`config: file not found: ${p}`);
    return p;
  }
  for (const name of ['ferry.config.ts', 'ferry.config.mjs', 'ferry.config.js']) {
    const p = path.resolve(cwd, name);
    if (existsSync(p)) return p;
  }
  throw new ConfigError(`config: no ferry.config.ts, .mjs or .js in ${cwd} (use --config PATH or FERRY_CONFIG)`);
}

/** Imports and validates a config module (its default export, or the module itself). */
export async function loadConfig(explicit?: string, env = process.env): Promise<FerryConfig> {
  const file = resolveConfigPath(explicit, env);
  let exported: unknown;
  try {
    exported = await importConfigModule(pathToFileURL(file).href);
  } catch (err) {
    throw new ConfigError(`config: cannot load ${file}: ${(err as Error).message}`);
  }
  const config = parseConfig(exported, env);
  // A transform thread imports this file again to find the transforms (activities/transform-pool.ts).
  config.transforms.module ??= pathToFileURL(file).href;
  return config;
}

/**
 * The module a transform thread imports to find this config's transforms, as
 * a file URL: `transforms.module` (a path against the working directory), or
 * the file `loadConfig` read; undefined for a config built in memory.
 */
export function configModuleOf(config: FerryConfig, cwd = process.cwd()): string | undefined {
  const given = config.transforms.module;
  if (!given) return undefined;
  return given.startsWith('file:') ? given : pathToFileURL(path.resolve(cwd, given)).href;
}
