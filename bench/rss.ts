// `npm run bench:rss`: the peak RSS of a `ferry start` process of its own
// (ferry-rss.ts) through a 20,000-row burst and a 100,000-row backfill of
// existing rows. Mark: ≤ 300 MiB. BENCH_RSS_BURST / BENCH_RSS_BACKFILL change the sizes.
import os from 'node:os';
import { measureFerryRss, RSS_MARK } from './ferry-rss.js';

const BURST = Number(process.env.BENCH_RSS_BURST ?? 20_000);
const BACKFILL = Number(process.env.BENCH_RSS_BACKFILL ?? 100_000);

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const r = await measureFerryRss(BURST, BACKFILL);
const worst = Math.max(r.burst, r.backfill);
console.log(`\nferry start, its own process (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs):`);
console.log(`  idle after start-up            ${mib(r.idle)}`);
console.log(`  ${BURST}-row burst               ${mib(r.burst)}  (${r.burstPerSec.toFixed(0)} rows/s)`);
console.log(`  ${BACKFILL}-row backfill           ${mib(r.backfill)}  (${r.backfillPerSec.toFixed(0)} rows/s)`);
console.log(`  peak                           ${mib(worst)}  mark ≤ 300 MiB: ${worst <= RSS_MARK ? 'met' : 'MISSED'}`);
