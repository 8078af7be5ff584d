// WAL mode's capture: reads Ferry's slot, turns each committed transaction
// into the log rows a trigger would have written, writes them in commit order
// with the position they reach, then confirms that position to Postgres.
// Dispatch reads the log as in trigger mode; this only kicks it.
import type { FerryConfig } from '../../config.js';
import type { Pool } from '../../db/index.js';
import type { FerryEvents } from '../../events.js';
import type { Logger } from '../../logger.js';
import { jitteredDelay, pause } from '../../reconnect-backoff.js';
import { formatTable } from '../../table-name.js';
import { triggerPlan } from '../migrate.js';
import { ORIGIN_MESSAGE_PREFIX } from '../../contract/index.js';
import { logEntries, type Relation, type RowChange } from './changes.js';
import { ColumnTypes, savePosition, writeTransactions, type CommittedTx } from './log-writer.js';
import { publicationName, slotName } from './names.js';
import { formatLsn, parseLsn, type PgOutputMessage } from './pgoutput.js';
import { SlotStream } from './slot-stream.js';
import { openOwnWrite, readOriginKey } from './own-writes.js';

export const HEARTBEAT_PREFIX = 'ferry.heartbeat';

export interface WalCaptureDeps {
  config: FerryConfig;
  pool: Pool;
  logger: Logger;
  events: FerryEvents;
  /** Called after log rows were written (the dispatcher's kick). */
  onLogged: () => void;
  /** Stop once every transaction that commits before this LSN is in the log (switching back to triggers). */
  until?: bigint;
}

interface OpenTx {
  xid: number;
  commitLsn: bigint;
  commitTime: bigint;
  origin: string[] | null;
  changes: RowChange[];
}

export class WalCapture {
  readonly slot: string;
  private readonly plan;
  private readonly relations = new Map<number, Relation>();
  private readonly types = new ColumnTypes();
  private readonly stop = new AbortController();
  private stream: SlotStream | undefined;
  private open: OpenTx | undefined;
  private queue: CommittedTx[] = [];
  private writing: Promise<void> | undefined;
  private saved = 0n;
  /** Opens the seals of Ferry's own-write messages (own-writes.ts). */
  private originKey: Buffer | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private reachedUntil!: () => void;
  /** Resolves once capture reached `until` (never, without one). */
  readonly done = new Promise<void>((resolve) => (this.reachedUntil = resolve));
  /** 'lost' once the slot was invalidated: capture stopped, `migrate` and `verify --repair` recover. */
  state: 'starting' | 'streaming' | 'reconnecting' | 'lost' | 'stopped' = 'starting';

  constructor(private readonly deps: WalCaptureDeps) {
    this.slot = slotName(deps.config.instance);
    this.plan = triggerPlan(deps.config);
  }

  get running(): boolean {
    return !this.stop.signal.aborted && this.state !== 'lost';
  }

  /** Starts streaming in the background; reconnects with backoff until close(), or until the slot is lost. */
  start(): void {
    this.loop = this.run();
    const every = this.deps.config.capture.heartbeatInterval;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), every);
    this.heartbeatTimer.unref();
  }

  private async run(): Promise<void> {
    const { logger, events } = this.deps;
    for (let attempt = 1; !this.stop.signal.aborted; attempt++) {
      try {
        await this.streamOnce();
        attempt = 0;
      } catch (err) {
        if (this.stop.signal.aborted) break;
        if (await this.slotLost()) {
          this.state = 'lost';
          this.reachedUntil();
          events.emit('walSlotLost', { slot: this.slot, error: (err as Error).message });
          logger.error(
            { slot: this.slot, err: (err as Error).message },
            'the replication slot is lost: changes since its last position were not captured; capture stopped. Recover with `ferry migrate` then `ferry verify --all --repair` (docs/capture.md, "A lost slot")',
          );
          return;
        }
        this.state = 'reconnecting';
        const delayMs = jitteredDelay(attempt);
        logger.warn({ slot: this.slot, err: (err as Error).message, attempt, delayMs }, 'WAL capture interrupted, reconnecting');
        await pause(delayMs, this.stop.signal);
      }
    }
  }

  /** The slot can no longer give the changes Ferry has not read: they are lost (docs/capture.md, "A lost slot"). */
  private async slotLost(): Promise<boolean> {
    const { rows } = await this.deps.pool
      .query(`SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1`, [this.slot])
      .catch(() => ({ rows: [] as { wal_status: string }[] }));
    return rows[0]?.wal_status === 'lost';
  }

  /** One replication connection, from the slot's confirmed position, until it ends. */
  private async streamOnce(): Promise<void> {
    const { config, pool, logger } = this.deps;
    const { rows } = await pool.query<{ lsn: string }>(`SELECT lsn::text FROM ferry.wal_position WHERE slot = $1`, [this.slot]);
    if (!rows[0]) throw new Error(`no ferry.wal_position row for slot ${this.slot}: run \`ferry migrate\` with capture.mode 'wal'`);
    this.saved = parseLsn(rows[0].lsn);
    this.originKey = await readOriginKey(pool);
    if (!this.originKey)
      logger.warn(
        { slot: this.slot },
        "this role may not UPDATE ferry.database_trigger_log, so Ferry's own writes cannot be told from the app's: they will be captured again (echo)",
      );
    this.open = undefined;
    this.queue = [];
    this.relations.clear();
    const stream = new SlotStream({
      url: config.database.listenUrl ?? config.database.url,
      slot: this.slot,
      publication: publicationName(config.instance),
      onMessage: (msg) => this.onMessage(msg),
    });
    this.stream = stream;
    try {
      await stream.start(this.saved);
      this.state = 'streaming';
      this.deps.events.emit('listenerConnected');
      logger.info({ slot: this.slot, from: formatLsn(this.saved) }, 'WAL capture streaming');
      await stream.ended;
    } finally {
      this.stream = undefined;
      await stream.close();
    }
  }

  private onMessage(msg: PgOutputMessage): void {
    switch (msg.tag) {
      case 'relation':
        this.relations.set(msg.relationId, { id: msg.relationId, table: formatTable({ schema: msg.schema, name: msg.name }), columns: msg.columns });
        break;
      case 'begin':
        this.open = { xid: msg.xid, commitLsn: msg.finalLsn, commitTime: msg.commitTime, origin: null, changes: [] };
        break;
      case 'insert':
      case 'update':
      case 'delete': {
        const relation = this.relations.get(msg.relationId);
        if (!relation || !this.open) break;
        const op = msg.tag === 'insert' ? 'INSERT' : msg.tag === 'update' ? 'UPDATE' : 'DELETE';
        const old = msg.tag === 'insert' ? null : msg.old;
        this.open.changes.push({ relation, op, old, new: msg.tag === 'delete' ? null : msg.new, origin: this.open.origin });
        break;
      }
      case 'message':
        // Ferry's own write names the tables its values came from, before it writes (echo suppression).
        if (msg.transactional && msg.prefix === ORIGIN_MESSAGE_PREFIX && this.open) {
          const own = openOwnWrite(msg.content, this.open.xid, this.originKey);
          if (own) this.open.origin = own.tables.length ? own.tables : null;
          else
            this.deps.logger.warn({ xid: this.open.xid }, "a ferry.origin message without Ferry's seal: the transaction is captured like any other");
        }
        // A heartbeat outside any transaction: every commit before it has been read.
        else if (!msg.transactional && msg.prefix === HEARTBEAT_PREFIX && !this.open)
          this.enqueue({ xid: 0, commitLsn: msg.lsn, endLsn: msg.lsn, commitTime: 0n, entries: [] });
        break;
      case 'commit': {
        const tx = this.open;
        this.open = undefined;
        if (!tx || msg.endLsn <= this.saved) break; // already in the log (a replay after a crash)
        const entries = tx.changes.flatMap((c) => logEntries(c, this.plan.get(c.relation.table) ?? []));
        this.enqueue({ xid: tx.xid, commitLsn: tx.commitLsn, endLsn: msg.endLsn, commitTime: tx.commitTime, entries });
        break;
      }
    }
  }

  private enqueue(tx: CommittedTx): void {
    const { until } = this.deps;
    if (until !== undefined && tx.commitLsn >= until) {
      // Everything before the switch point is queued; done once it is written.
      void (this.writing ?? Promise.resolve()).then(() => this.reachedUntil());
      return;
    }
    this.queue.push(tx);
    this.write();
  }

  private write(): void {
    if (this.writing) return;
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      // A transaction queued while the last write was finishing.
      if (this.queue.length && this.stream) this.write();
    });
  }

  /** Writes what has committed, in order, many transactions per write when they queue up. */
  private async drain(): Promise<void> {
    const { pool, logger, onLogged } = this.deps;
    while (this.queue.length && this.stream) {
      const batch = this.queue.splice(0, 500);
      const last = batch[batch.length - 1]!.endLsn;
      try {
        const written = batch.some((tx) => tx.entries.length) ? await writeTransactions(pool, this.slot, batch, this.types) : 0;
        if (!written && last - this.saved > 1024n * 1024n) await savePosition(pool, this.slot, last);
        this.saved = last > this.saved ? last : this.saved;
        this.stream?.confirm(last);
        if (written) onLogged();
      } catch (err) {
        // Nothing was confirmed past the log: a new connection reads these transactions again.
        logger.warn({ slot: this.slot, err: (err as Error).message }, 'writing captured changes failed; reading them again');
        this.queue = [];
        await this.stream?.close();
        return;
      }
    }
  }

  /** An idle slot still moves forward: a non-transactional message comes back as a position to confirm. */
  private async heartbeat(): Promise<void> {
    if (this.state !== 'streaming' || this.open || this.queue.length) return;
    await this.deps.pool.query(`SELECT pg_logical_emit_message(false, $1, '')`, [HEARTBEAT_PREFIX]).catch(() => {});
  }

  /** Stops streaming after the write in flight; what is not confirmed is read again next time. */
  async close(): Promise<void> {
    this.stop.abort();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await this.writing?.catch(() => {});
    await this.stream?.close();
    await this.loop;
    if (this.state !== 'lost') this.state = 'stopped';
  }
}
