import pg from 'pg';
import { percentile } from './stats.js';

export interface CaptureResult {
  mappedPerSec: number;
  unmappedPerSec: number;
  /** mapped rate / unmapped rate (median over adjacent blocks): 1 means the trigger costs nothing. */
  ratio: number;
  rows: number;
}

const INSERT = (table: string) => `INSERT INTO ${table} (email, full_name) VALUES ($1, $2)`;

/**
 * Single-row autocommit inserts on one connection into portal.users (Ferry's
 * trigger: log row + NOTIFY) and into an identical table without a trigger,
 * alternating blocks so both see the same background noise. Run while no
 * Ferry listens, then the caller clears the rows.
 */
export async function measureCapture(url: string, rows: number, block = 20): Promise<CaptureResult> {
  const client = new pg.Client({ connectionString: url, application_name: 'ferry-bench-capture' });
  await client.connect();
  try {
    const time = { mapped: 0, unmapped: 0 };
    const pairRatios: number[] = []; // per round: mapped rate / unmapped rate, next to each other in time
    const tables = { mapped: 'portal.users', unmapped: 'bench.users_unmapped' } as const;
    // Warm-up: plans cached, pages in memory.
    for (const t of Object.values(tables)) for (let i = 0; i < 50; i++) await client.query(INSERT(t), ['warm@example.com', 'Warm Up']);
    for (let done = 0, round = 0; done < rows; done += block, round++) {
      const order: (keyof typeof tables)[] = round % 2 ? ['unmapped', 'mapped'] : ['mapped', 'unmapped'];
      const took = { mapped: 0, unmapped: 0 };
      for (const which of order) {
        const t0 = performance.now();
        for (let i = 0; i < block; i++) await client.query(INSERT(tables[which]), [`u${done + i}@example.com`, `User ${done + i}`]);
        took[which] = performance.now() - t0;
        time[which] += took[which];
      }
      pairRatios.push(took.unmapped / took.mapped);
    }
    const total = Math.ceil(rows / block) * block;
    const mappedPerSec = total / (time.mapped / 1000);
    const unmappedPerSec = total / (time.unmapped / 1000);
    // The median of adjacent pairs: a burst of someone else's load hits one pair, not the figure.
    return { mappedPerSec, unmappedPerSec, ratio: percentile(pairRatios, 50), rows: total };
  } finally {
    await client.end();
  }
}
