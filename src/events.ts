import { EventEmitter } from 'node:events';

/** What operators care about, as named events; logs and metrics hang off these. */
export interface FerryEventMap {
  /** Workflows started (or found already running) for claimed logs. */
  dispatched: [{ count: number; stale: boolean }];
  /** A dispatch round failed; its logs go back to the queue. */
  dispatchFailed: [{ error: Error; count: number }];
  /** The listener's connection is up and LISTENing (first time or after a reconnect). */
  listenerConnected: [];
  /** The listener lost its connection and tries again. */
  listenerReconnecting: [{ attempt: number }];
}

export class FerryEvents extends EventEmitter<FerryEventMap> {}
