// The config's schema: what a config file may say, its checks of form, and
// each default, stated once. Resolving (pairs, conflict policies) is in resolve.ts.
import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { formatTable, identifierProblem, parseTable } from '../table-name.js';
import { codecSchema, type CodecConfig } from './codec-keys.js';
import { temporalTls } from './temporal-tls.js';

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

/** Default of `capture.notify` (docs/capture.md says why poll mode). */
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
    for (const [what, part] of [
      ['schema', table.schema],
      ['table', table.name],
    ] as const) {
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

/** Heroku Connect's bookkeeping columns: `downstream: 'heroku-connect'`. */
export const HEROKU_CONNECT_DOWNSTREAM = { status: '_hc_lastop', failed: 'FAILED', error: '_hc_err', pending: ['PENDING'] };

/**
 * A target whose far side reports each row's fate in a column of its own
 * (Heroku Connect's `_hc_lastop`): a row is rejected when `status` is
 * `failed` (why: the `error` column), pending downstream while it is NULL or
 * one of `pending`, delivered otherwise.
 * @example downstream: 'heroku-connect'
 * @example downstream: { status: 'sync_state', failed: 'ERROR', error: 'sync_error', pending: ['NEW', 'QUEUED'] }
 */
const downstream = z.union([
  z.literal('heroku-connect').transform(() => HEROKU_CONNECT_DOWNSTREAM),
  z
    .object({ status: column, failed: z.string().min(1), error: column.optional(), pending: z.array(z.string().min(1)).default(['PENDING']) })
    .strict(),
]);

const mappingSchema = z
  .object({
    /** Unique name; appears in the log table, search attributes and metrics. */
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, "_", "." or "-"'),
    source: z.object({ table: qualifiedTable, key: column }).strict(),
    target: z.object({ table: qualifiedTable, key: column, downstream: downstream.optional() }).strict(),
    transform: z.custom<Transform>((v) => typeof v === 'function', 'must be a function (row, ctx) => row | null'),
    /**
     * Rows of other mappings (or of this one: a hierarchy) that must be in
     * their target first. `optional: true`: the child is written at once
     * without it, and carried again when that parent's sync completes.
     * @example parents: [{ mapping: 'users_to_accounts', column: 'manager_id' }, { mapping: 'contacts', column: 'primary_contact_id', optional: true }]
     */
    parents: z.array(z.object({ mapping: z.string(), column, optional: z.boolean().default(false) }).strict()).default([]),
    onDelete: z.union([z.literal('delete'), z.literal('ignore'), z.object({ softDelete: column }).strict()]).default('delete'),
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

/** See docs/design.md, "Bursts". */
const BATCH_THRESHOLD = 100;
const MAX_CACHED_WORKFLOWS = 250;

export const configSchema = z
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
        /** Sent as `authorization: Bearer <key>` (Temporal Cloud); turns TLS on. Prefer TEMPORAL_API_KEY. */
        apiKey: z.string().min(1).optional(),
        tls: temporalTls.optional(),
        /** Encrypt payloads (AES-256-GCM) and failures' messages: docs/security.md. */
        codec: codecSchema.optional(),
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
        /**
         * Logs claimed per dispatcher round, and the most a syncBatch carries
         * (one transaction). Each chunk has a fixed cost, so bigger chunks
         * drain a burst faster but hold the CPU longer against the live lane;
         * 1000 is where the two meet (docs/performance.md, "What the batch size trades").
         */
        batchSize: z.number().int().positive().default(1000),
        /**
         * A mapping with more logs queued than this (claimable, or dispatched
         * and not carried yet) has a backlog: its new logs go in syncBatch
         * workflows of up to batchSize; below it, one syncLog each.
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
    /**
     * Where transforms run. 'thread': in a pool of worker threads that load
     * the config module themselves, so a call past `transformTimeout` ends its
     * thread, a busy loop too, and the worker and listener go on. 'inline': in
     * the worker's own thread (a loop there freezes the process). Default:
     * 'thread' when Ferry knows the config's module (a file `ferry` loaded, or
     * `module`), else 'inline'. See docs/configuration.md, "Transforms".
     * @example transforms: { isolation: 'thread', threads: 4 }
     */
    transforms: z
      .object({
        isolation: z.enum(['thread', 'inline']).optional(),
        /** Threads in the pool; each runs one call, or one batch chunk's calls, at a time. */
        threads: z.number().int().min(1).max(64).default(1),
        /** The module whose default export is this config (a path or file URL): what an embedded config names for 'thread'. */
        module: z.string().min(1).optional(),
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
         * triggers: run `ferry migrate` after changing it. See docs/capture.md.
         * @example capture: { notify: false }
         */
        notify: z.boolean().default(NOTIFY_DEFAULT),
        /**
         * 'trigger' (the default, every host): triggers write the log in the
         * app's transaction. 'wal': Ferry reads its own replication slot
         * (pgoutput) and fills the same log after each commit, outside the
         * app's transaction; needs wal_level=logical and a role with the
         * REPLICATION right. For a whole deployment: run `ferry migrate`
         * after changing it (docs/capture.md, "WAL mode").
         * @example capture: { mode: 'wal' }
         */
        mode: z.enum(['trigger', 'wal']).default('trigger'),
        /**
         * WAL mode: the slot's lag, in bytes of WAL it holds back, at which
         * `ferry status`, `doctor` and the metrics warn (default 1 GiB). Keep
         * it well below the server's max_slot_wal_keep_size.
         * @example capture: { mode: 'wal', slotLagWarning: 256 * 1024 * 1024 }
         */
        slotLagWarning: z
          .number()
          .int()
          .positive()
          .default(1024 ** 3),
        /** WAL mode: how often an idle listener moves its slot forward with a heartbeat message. */
        heartbeatInterval: duration.default(10_000),
      })
      .strict()
      .prefault({}),
    /**
     * Prometheus `/metrics`, `/livez` and `/readyz` (`/healthz`) of `ferry start`, `listen` and `worker`
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
            /** Loopback by default: set '0.0.0.0' for a scraper or a probe from outside the host or container. */
            host: z.string().min(1).default('127.0.0.1'),
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
/** A mapping as the schema parses it: `conflict` may still be unset. */
export type ParsedMapping = z.output<typeof mappingSchema>;
export type ConflictPolicy = NonNullable<ParsedMapping['conflict']>;
/** A mapping as loading resolves it: its conflict policy is settled (a pair's two sides mirror each other). */
export type Mapping = Omit<ParsedMapping, 'conflict'> & { conflict: ConflictPolicy };
/** The config as loading resolves it: every default applied, the instance named, every mapping resolved. */
export type FerryConfig = Omit<z.output<typeof configSchema>, 'instance' | 'mappings' | 'temporal'> & {
  instance: string;
  mappings: Mapping[];
  /** `codec`, when set, holds the keys themselves (read once at load). */
  temporal: Omit<z.output<typeof configSchema>['temporal'], 'codec'> & { codec?: CodecConfig };
};

/**
 * Identity helper that gives a config file its types.
 *
 * @example
 * export default defineConfig({ database: { url: process.env.DATABASE_URL! }, mappings: [...] })
 */
export function defineConfig(config: FerryConfigInput): FerryConfigInput {
  return config;
}
