import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { channelFor } from './contract/index.js';
import { parseDuration } from './duration.js';
import { findCycle } from './graph.js';
import { formatTable, identifierProblem, MAX_IDENTIFIER_BYTES, parseTable } from './table-name.js';

/** A row as Postgres hands it to Ferry (`to_jsonb(row)`): column name to value. */
export type Row = Record<string, unknown>;

/** What a transform learns besides the row. */
export interface TransformContext {
  /** The change being carried. For DELETE the row is the last one seen before the delete. */
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  logId: number;
  mapping: string;
  /** Each parent's row in the parent mapping's target, by the child's column (see `parents`). */
  parents: Record<string, Row>;
}

/** Returns the target row's columns (including `target.key`), or null to skip the change. */
export type Transform = (row: Row, ctx: TransformContext) => Row | null | Promise<Row | null>;

/** Default of `capture.notify` (README "Capture" has the measurements behind it). */
const NOTIFY_DEFAULT = false;

/** A column name, taken literally (any spelling; Ferry quotes it in every statement). */
const column = z.string().superRefine((v, ctx) => {
  const problem = identifierProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: `column name ${problem}` });
});

const TABLE_HINT = 'must be a schema-qualified table, e.g. "portal.users", \'"My Schema"."Order Lines"\' or { schema, name }';

/** A table as text ("portal.users", '"My Schema"."Tbl"') or { schema, name }; becomes the canonical text. */
const qualifiedTable = z
  .union([z.string(), z.object({ schema: z.string(), name: z.string() }).strict()], { error: TABLE_HINT })
  .transform((v, ctx) => {
    const table = typeof v === 'string' ? parseTable(v) : v;
    if (!table) {
      ctx.addIssue({ code: 'custom', message: TABLE_HINT });
      return z.NEVER;
    }
    for (const [what, part] of [['schema', table.schema], ['table', table.name]] as const) {
      const problem = identifierProblem(part) ?? (part.includes(',') ? 'contains ",", which Ferry cannot list in ferry.origin' : undefined);
      if (problem) {
        ctx.addIssue({ code: 'custom', message: `${what} name ${JSON.stringify(part)} ${problem}` });
        return z.NEVER;
      }
    }
    return formatTable(table);
  });
const duration = z
  .union([z.number(), z.string()])
  .refine((v) => parseDuration(v) !== undefined, 'must be a duration: milliseconds, or a string such as "1s" or "5m"')
  .transform((v) => parseDuration(v) as number);

const mappingSchema = z
  .object({
    /** Unique name; appears in the log table, search attributes and metrics. */
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, "_", "." or "-"'),
    source: z.object({ table: qualifiedTable, key: column }).strict(),
    target: z.object({ table: qualifiedTable, key: column }).strict(),
    transform: z.custom<Transform>((v) => typeof v === 'function', 'must be a function (row, ctx) => row | null'),
    /**
     * Rows of other mappings (or of this one: a hierarchy) that must be in
     * their target first. `optional: true`: the child is written at once
     * without it, and carried again when that parent's sync completes.
     * @example parents: [{ mapping: 'users_to_accounts', column: 'manager_id' }, { mapping: 'contacts', column: 'primary_contact_id', optional: true }]
     */
    parents: z.array(z.object({ mapping: z.string(), column, optional: z.boolean().default(false) }).strict()).default([]),
    onDelete: z
      .union([z.literal('delete'), z.literal('ignore'), z.object({ softDelete: column }).strict()])
      .default('delete'),
    /**
     * With a mapping in the opposite direction: who wins when both sides of a
     * pair changed before either change was carried. 'latest' (default): the
     * change captured last wins, whole; 'source-wins' / 'target-wins': this
     * mapping's source (or target) side always wins. The reverse mapping
     * takes the mirror policy.
     */
    conflict: z.enum(['latest', 'source-wins', 'target-wins']).optional(),
    /**
     * Linking: when the transform returns no target key (a record created on
     * the other side), insert the target row, let the database generate its
     * key, and write that key back into this source column, as Ferry's own
     * write. @example link: { writeBack: 'portal_user_id__c' }
     */
    link: z.object({ writeBack: column }).strict().optional(),
    /**
     * How long one call of `transform` may take; a call that has not settled
     * by then fails its log (it holds the row's lock and a connection meanwhile).
     * @example transformTimeout: '30s'
     */
    transformTimeout: duration
      .refine((ms) => ms > 0 && ms <= 25_000, 'must be more than 0 and at most 25s (a sync step times out after 30s)')
      .default(10_000),
  })
  .strict();

/** A deployment's name: it goes into workflow ids and the FerryInstance search attribute. */
const instanceName = z.string().regex(/^[a-z0-9_-]+$/, 'must be lower-case letters, digits, "_" or "-"');

/** See README, "Bursts". */
const BATCH_THRESHOLD = 100;
const MAX_CACHED_WORKFLOWS = 250;

const configSchema = z
  .object({
    /**
     * Names the deployment, so two databases served by one Temporal namespace
     * never share a workflow id. Default: the database name, lower-cased, other
     * characters as "-". @example instance: 'shop-eu'
     */
    instance: instanceName.optional(),
    database: z
      .object({
        url: z.string({ error: 'is required (or set DATABASE_URL)' }).min(1, 'is required (or set DATABASE_URL)'),
        /** A direct connection for LISTEN when `url` goes through a transaction pooler. */
        listenUrl: z.string().min(1).optional(),
        poolSize: z.number().int().positive().default(10),
      })
      .strict(),
    temporal: z
      .object({
        address: z.string().min(1).default('localhost:7233'),
        namespace: z.string().min(1).default('default'),
        taskQueue: z.string().min(1).default('ferry'),
        /** Base address of the Temporal Web UI, for links in `ferry status`. */
        uiUrl: z.string().url().optional(),
      })
      .strict()
      .prefault({}),
    missingParent: z
      .object({
        initialInterval: duration.default(1000),
        backoffCoefficient: z.number().min(1).default(2),
        maximumInterval: duration.default(60_000),
        maximumAttempts: z.number().int().positive().default(10),
      })
      .strict()
      .prefault({}),
    listener: z
      .object({
        /** How often the sweeper looks for pending logs that no workflow carries yet. */
        sweepInterval: duration.default(5000),
        /** A pending log dispatched this long ago is dispatched again (a no-op if its workflow runs). */
        redispatchAfter: duration.default(300_000),
        /** Logs claimed per dispatcher round, and the most a syncBatch carries. */
        batchSize: z.number().int().positive().default(500),
        /**
         * A mapping with more claimable logs than this has a backlog: its logs
         * go in syncBatch workflows of up to batchSize; below it, one syncLog each.
         */
        batchThreshold: z.number().int().min(0).default(BATCH_THRESHOLD),
        /** Poll mode (`capture.notify: false`): how often the listener looks for new pending logs. */
        pollInterval: duration.default(100),
      })
      .strict()
      .prefault({}),
    /** The worker half (`ferry start`, `ferry worker`). */
    worker: z
      .object({
        /** Batch chunks carried at once, each one transaction on its own connection, on their own task queue. */
        batchSlots: z.number().int().positive().default(2),
        /** Workflows kept in the worker's cache (sticky execution); bounds its memory. */
        maxCachedWorkflows: z.number().int().min(0).default(MAX_CACHED_WORKFLOWS),
      })
      .strict()
      .prefault({}),
    capture: z
      .object({
        /**
         * true: each capturing statement sends one NOTIFY, which wakes the
         * listener at once but serializes every notifying commit of the
         * cluster on Postgres' notify lock. false (poll mode): no NOTIFY; the
         * listener polls every `listener.pollInterval`. Baked into the
         * triggers: run `ferry migrate` after changing it. See README "Capture".
         * @example capture: { notify: false }
         */
        notify: z.boolean().default(NOTIFY_DEFAULT),
      })
      .strict()
      .prefault({}),
    /**
     * Prometheus `/metrics` and `/healthz` of `ferry start`, `listen` and `worker`
     * (`--metrics-port` overrides the port). Port 0 picks any free port (it is
     * logged); `false` serves nothing.
     *
     * @example metrics: { port: 9464, host: '0.0.0.0' }
     */
    metrics: z
      .union([
        z.literal(false),
        z
          .object({
            port: z.number().int().min(0).max(65535).default(9464),
            host: z.string().min(1).default('0.0.0.0'),
          })
          .strict(),
      ])
      .prefault({}),
    /** Used by `ferry dev` only: SQL files applied before `migrate` (the example's schema). */
    dev: z
      .object({ setupSql: z.array(z.string()).default([]) })
      .strict()
      .prefault({}),
    mappings: z.array(mappingSchema).min(1, 'needs at least one mapping'),
  })
  .strict();

export type FerryConfigInput = z.input<typeof configSchema>;
export type FerryConfig = Omit<z.output<typeof configSchema>, 'instance'> & { instance: string };
export type Mapping = FerryConfig['mappings'][number];

/**
 * Identity helper that gives a config file its types.
 *
 * @example
 * export default defineConfig({ database: { url: process.env.DATABASE_URL! }, mappings: [...] })
 */
export function defineConfig(config: FerryConfigInput): FerryConfigInput {
  return config;
}

/** A config that cannot be used; `message` names the offending key. The CLI exits 2 on it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function keyPath(segments: readonly PropertyKey[]): string {
  return segments
    .map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? String(s) : `.${String(s)}`))
    .join('');
}

/** Applies the environment overrides the contract names; they win over the file. */
function withEnv(raw: Record<string, any>, env: NodeJS.ProcessEnv): Record<string, any> {
  const out: Record<string, any> = { ...raw, database: { ...(raw.database ?? {}) }, temporal: { ...(raw.temporal ?? {}) } };
  if (env.DATABASE_URL) out.database.url = env.DATABASE_URL;
  if (env.TEMPORAL_ADDRESS) out.temporal.address = env.TEMPORAL_ADDRESS;
  if (env.TEMPORAL_NAMESPACE) out.temporal.namespace = env.TEMPORAL_NAMESPACE;
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
  const config = { ...result.data, instance: result.data.instance ?? instanceOf(result.data.database.url) };
  checkMappings(config.mappings);
  return config;
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

function checkMappings(mappings: Mapping[]): void {
  const byName = new Map<string, number>();
  mappings.forEach((m, i) => {
    if (byName.has(m.name)) throw new ConfigError(`config: mappings[${i}].name: "${m.name}" is used twice`);
    byName.set(m.name, i);
  });
  mappings.forEach((m, i) => {
    // The trigger notifies channel ferry_<schema>; Postgres refuses a longer channel name.
    const schema = parseTable(m.source.table)!.schema;
    if (Buffer.byteLength(channelFor(schema)) > MAX_IDENTIFIER_BYTES)
      throw new ConfigError(
        `config: mappings[${i}].source.table: schema name ${JSON.stringify(schema)} is too long for its NOTIFY channel ` +
          `"ferry_<schema>" (${MAX_IDENTIFIER_BYTES} bytes at most)`,
      );
  });
  mappings.forEach((m, i) =>
    m.parents.forEach((p, j) => {
      if (!byName.has(p.mapping))
        throw new ConfigError(`config: mappings[${i}].parents[${j}].mapping: no mapping is named "${p.mapping}"`);
    }),
  );
  resolveConflictPolicies(mappings);
  // Mapping-level cycles (a hierarchy, a loop of references) are fine: what
  // must never loop is rows, and the sync finds such a loop when it happens.
}

/**
 * Loops of mappings joined only by required parents, other than a mapping
 * that is its own parent (a tree, normally). Two rows that point at each
 * other along such a loop can never sync; each warning names the references
 * one of which should be `optional: true`.
 */
export function requiredParentLoops(mappings: Mapping[]): string[] {
  const edges = new Map(mappings.map((m) => [m.name, m.parents.filter((p) => !p.optional && p.mapping !== m.name).map((p) => p.mapping)]));
  const warnings: string[] = [];
  for (let cycle = findCycle(edges); cycle && warnings.length < 10; cycle = findCycle(edges)) {
    const refs = cycle.slice(0, -1).map((name, i) => {
      const m = mappings.find((x) => x.name === name)!;
      return m.parents.filter((p) => !p.optional && p.mapping === cycle![i + 1]).map((p) => `${name}.${p.column}`).join(', ');
    });
    warnings.push(
      `mappings ${cycle.join(' -> ')} form a loop of required parents: rows that point at each other through ` +
        `${refs.join(' and ')} cannot sync; mark one of these references optional: true`,
    );
    // Drop the closing edge and look for another loop.
    const last = edges.get(cycle.at(-2)!)!;
    last.splice(last.indexOf(cycle.at(-1)!), 1);
  }
  return warnings;
}

/** The mapping that carries rows the opposite way (target -> source), if any. */
export function reverseOf(mappings: Mapping[], mapping: Mapping): Mapping | undefined {
  return mappings.find((m) => m.source.table === mapping.target.table && m.target.table === mapping.source.table);
}

const MIRROR = { latest: 'latest', 'source-wins': 'target-wins', 'target-wins': 'source-wins' } as const;

/**
 * Gives each mapping of a two-way pair its conflict policy: one side may set
 * it, the other mirrors it; both set means they must agree. Pairs serialize on
 * the row they share, so the reverse mapping must write the source's key.
 */
function resolveConflictPolicies(mappings: Mapping[]): void {
  mappings.forEach((m, i) => {
    const reverse = reverseOf(mappings, m);
    if (!reverse) {
      m.conflict ??= 'latest';
      return;
    }
    if (reverse.target.key !== m.source.key && m.target.key !== reverse.source.key)
      throw new ConfigError(
        `config: mappings[${i}]: ${m.name} and ${reverse.name} sync in opposite directions, so one must write the other's ` +
          `source key (e.g. ${reverse.name}.target.key = "${m.source.key}"): pairs serialize on the row they share`,
      );
    const mirrored = reverse.conflict ? MIRROR[reverse.conflict] : undefined;
    if (m.conflict && mirrored && m.conflict !== mirrored)
      throw new ConfigError(
        `config: mappings[${i}].conflict: "${m.conflict}" contradicts ${reverse.name}'s "${reverse.conflict}" (expected "${mirrored}")`,
      );
    m.conflict ??= mirrored ?? 'latest';
  });
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
  let mod: any;
  try {
    await typeScriptLoaderFor(file);
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    throw new ConfigError(`config: cannot load ${file}: ${(err as Error).message}`);
  }
  // A .ts compiled to CommonJS (no "type": "module" near it) arrives wrapped once more.
  const exported = mod.default?.__esModule ? mod.default.default : (mod.default ?? mod);
  return parseConfig(exported, env);
}

/**
 * Compiled Ferry (dist/) runs on plain Node: a `.ts` config needs tsx's
 * loader, registered only then (it costs a few hundred ms). From the sources
 * (tsx, vitest) a loader is already there.
 */
async function typeScriptLoaderFor(file: string): Promise<void> {
  if (!/\.[cm]?ts$/.test(file) || !import.meta.url.endsWith('.js')) return;
  // Both hooks, as the tsx command has: a .ts outside a "type": "module" package is CommonJS to Node.
  const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  esm.register();
  cjs.register();
}

export function mappingByName(config: FerryConfig, name: string): Mapping | undefined {
  return config.mappings.find((m) => m.name === name);
}
