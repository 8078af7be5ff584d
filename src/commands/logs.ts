import type { OutputFormat } from '../cli/common-options.js';
import { emit } from '../cli/output.js';
import type { FerryConfig } from '../config.js';
import { withPool } from '../db/index.js';
import { collectStory, formatStory, type StoryTarget } from '../operate/sync-story.js';

/** `ferry logs`: exit 1 when no log matches. Never loads Temporal's SDK. */
export function logsCommand(config: FerryConfig, target: StoryTarget, output: OutputFormat): Promise<number> {
  return withPool(config.database.url, 1, async (pool) => {
    const story = await collectStory(pool, config, target);
    if (!story) {
      console.error('logId' in target ? `log ${target.logId}: no such log` : `${target.mapping}:${target.rowKey}: no logs`);
      return 1;
    }
    emit(output, story, formatStory);
    return 0;
  });
}
