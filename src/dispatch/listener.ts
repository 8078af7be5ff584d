import pgListen, { type Subscriber } from 'pg-listen';
import { jitteredDelay, retryUntilDone } from '../reconnect-backoff.js';
import type { FerryConfig } from '../config.js';
import { channelFor } from '../contract/index.js';
import type { Dispatcher } from './dispatcher.js';
import type { FerryEvents } from '../events.js';
import type { Logger } from '../logger.js';
import { parseTable } from '../table-name.js';

// pg-listen is CommonJS with exports.default; under Node's ESM loader the
// function sits on .default, under a bundler or vitest it may be the import itself.
const createSubscriber: typeof pgListen.default = (pgListen as any).default ?? pgListen;

export function channelsFor(config: FerryConfig): string[] {
  return [...new Set(config.mappings.map((m) => channelFor(parseTable(m.source.table)!.schema)))];
}

export interface ListenerDeps {
  config: FerryConfig;
  dispatcher: Dispatcher;
  logger: Logger;
  events: FerryEvents;
}

/**
 * One dedicated connection that LISTENs on every source schema's channel.
 * A notification (or, in poll mode, a timer) only kicks the dispatcher; the sweeper kicks it at start-up,
 * after every reconnect and every `listener.sweepInterval`, so a change whose
 * notification was lost (listener down, connection dropped) is still carried.
 */
export class Listener {
  private subscriber: Subscriber | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private connected = false;
  private readonly stop = new AbortController();

  constructor(private readonly deps: ListenerDeps) {}

  /** True while the connection is up and LISTENing. */
  /** Whether the listener's loop runs (until close(); reconnecting counts), for /livez. */
  get running(): boolean {
    return !this.stop.signal.aborted;
  }

  get listening(): boolean {
    return this.connected;
  }

  async start(): Promise<void> {
    const { config, logger } = this.deps;
    const channels = channelsFor(config);
    this.subscriber = await retryUntilDone('listen to Postgres', () => this.connect(channels), {
      signal: this.stop.signal,
      onError: (err, attempt, delayMs) => logger.warn({ err: (err as Error).message, attempt, delayMs }, 'Postgres unreachable, retrying'),
    });
    logger.info({ channels }, 'listening');
    this.sweepTimer = setInterval(() => this.sweep('interval'), config.listener.sweepInterval);
    this.sweepTimer.unref();
    // Poll mode: the triggers send no NOTIFY; a look at the pending index every
    // pollInterval finds new logs (an idle look is one index probe).
    if (!config.capture.notify) {
      this.pollTimer = setInterval(() => this.deps.dispatcher.kick(), config.listener.pollInterval);
      this.pollTimer.unref();
    }
    this.sweep('start'); // start-up sweep: whatever changed while no one listened
  }

  private sweep(reason: 'start' | 'interval' | 'reconnect'): void {
    this.deps.events.emit('swept', { reason });
    this.deps.dispatcher.kick({ stale: true });
  }

  private async connect(channels: string[]): Promise<Subscriber> {
    const { config, logger, dispatcher, events } = this.deps;
    const subscriber = createSubscriber(
      { connectionString: config.database.listenUrl ?? config.database.url, application_name: 'ferry-listener' },
      {
        // Heartbeat on the idle connection, so a silently dead socket is noticed.
        paranoidChecking: 10_000,
        retryInterval: (attempt: number) => jitteredDelay(attempt),
        retryTimeout: 0, // never give up reconnecting
        parse: (payload: string) => payload, // the payload is a wake-up; nothing to parse
      },
    );
    subscriber.events.on('notification', () => dispatcher.kick());
    subscriber.events.on('reconnect', (attempt: number) => {
      this.connected = false;
      events.emit('listenerReconnecting', { attempt });
      logger.warn({ attempt }, 'listener connection lost, reconnecting');
    });
    subscriber.events.on('connected', () => {
      const wasDown = !this.connected;
      this.connected = true;
      events.emit('listenerConnected');
      if (wasDown) this.sweep('reconnect'); // catch up on what was missed while down
    });
    subscriber.events.on('error', (err: Error) => {
      this.connected = false;
      logger.error({ err: err.message }, 'listener error');
    });
    try {
      await subscriber.connect();
      for (const channel of channels) await subscriber.listenTo(channel);
      this.connected = true;
      return subscriber;
    } catch (err) {
      await subscriber.close().catch(() => {});
      throw err;
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.connected = false;
    await this.subscriber?.close().catch(() => {});
  }
}
