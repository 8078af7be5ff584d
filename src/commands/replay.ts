import type { OutputFormat } from '../cli/common-options.js';
import { emit } from '../cli/output.js';
import type { FerryConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { withTemporal } from './with-temporal.js';

/** `ferry replay`: one sweep of every pending log. */
export function replayCommand(config: FerryConfig, logger: Logger, output: OutputFormat): Promise<number> {
  return withTemporal(config, logger, async (pool, client) => {
    const { Dispatcher } = await import('../dispatch/dispatcher.js');
    const { FerryEvents } = await import('../events.js');
    const dispatched = await new Dispatcher({ pool, client, config, logger, events: new FerryEvents() }).drain();
    emit(output, { dispatched }, (d) => `dispatched ${d.dispatched} pending log(s)`);
    return 0;
  });
}
