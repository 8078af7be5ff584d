// Transforms for test/transform-pool.test.ts, imported by the pool's threads.
import type { Row } from '../../src/config.js';

const mappings = [
  {
    name: 'echo',
    transform: (row: Row) => {
      if (row.loop) for (;;);
      // In a thread, process.exit ends the thread only.
      if (row.exit) process.exit(3);
      return row.bytes ? { id: String(row.id), bytes: row.bytes } : { id: String(row.id) };
    },
  },
];

export default { mappings };
