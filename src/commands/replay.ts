import type { FerryConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { withTemporal } from './with-temporal.js';

/** `ferry replay`: one sweep of every pending log. */
export function replayCommand(config: FerryConfig, logger: Logger): Promise<number> {
  return withTemporal(config, logger, async (pool, client) => {
    const { Dispatcher } = await import('../dispatch/dispatcher.js');
    const { FerryEvents } = await import('../events.js');
    const count = await new Dispatcher({ pool, client, config, logger, events: new FerryEvents() }).drain();
    console.log(`dispatched ${count} pending log(s)`);
    return 0;
  });
}
