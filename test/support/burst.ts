import pg from 'pg';

export interface BurstOptions {
  url: string;
  /** Users inserted, one autocommit statement each. */
  rows: number;
  /** Connections writing at once (an app's traffic). */
  clients?: number;
  /** After every n-th insert, also update a recent row (0: none): races a row's own pending sync. */
  updateEvery?: number;
  /** After every n-th insert, also delete a recent row (0: none). */
  deleteEvery?: number;
  /** Tells this burst's rows from another's (emails and names). */
  tag: string;
}

export interface BurstResult {
  inserted: number;
  updated: number;
  deleted: number;
  /** Statements that failed because the database went away (Postgres restarted); the writer reconnected. */
  errors: number;
  ms: number;
}

export interface Burst {
  startedAt: number;
  done: Promise<BurstResult>;
}

const RECENT = 50;

/**
 * Writes users to portal.users from several connections as fast as they go,
 * with updates and deletes of recent rows mixed in. Survives the database
 * going away: a failed statement is counted and the writer reconnects, so the
 * assertions read what was really committed, not what the writer meant to.
 */
export function startBurst(opts: BurstOptions): Burst {
  const startedAt = Date.now();
  const result: BurstResult = { inserted: 0, updated: 0, deleted: 0, errors: 0, ms: 0 };
  const recent: number[] = [];
  let next = 0;
  const pick = () => recent[Math.floor(Math.random() * recent.length)];

  const writer = async () => {
    let client: pg.Client | undefined;
    // A statement cut off by the database going away is not retried (its
    // outcome is unknown; the final state decides); the next one reconnects.
    const query = async (sql: string, params: unknown[]) => {
      try {
        client ??= await connect(opts.url);
        return await client.query(sql, params);
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        result.errors++;
        await client?.end().catch(() => {});
        client = undefined;
        return undefined;
      }
    };
    try {
      for (let i = next++; i < opts.rows; i = next++) {
        const inserted = await query(`INSERT INTO portal.users (email, full_name) VALUES ($1, $2) RETURNING id`, [
          `${opts.tag}${i}@example.com`,
          `${opts.tag} ${i}`,
        ]);
        if (inserted) {
          result.inserted++;
          recent.push(inserted.rows[0].id);
          if (recent.length > RECENT) recent.shift();
        }
        if (opts.updateEvery && i % opts.updateEvery === 0 && recent.length) {
          const done = await query(`UPDATE portal.users SET full_name = full_name || ' +' WHERE id = $1`, [pick()]);
          if (done) result.updated += done.rowCount ?? 0;
        }
        if (opts.deleteEvery && i % opts.deleteEvery === 0 && recent.length) {
          const done = await query(`DELETE FROM portal.users WHERE id = $1`, [pick()]);
          if (done) result.deleted += done.rowCount ?? 0;
        }
      }
    } finally {
      await client?.end().catch(() => {});
    }
  };

  const done = Promise.all(Array.from({ length: opts.clients ?? 4 }, writer)).then(() => ({ ...result, ms: Date.now() - startedAt }));
  return { startedAt, done };
}

/** Connects, waiting up to two minutes for a database that is restarting. */
async function connect(url: string): Promise<pg.Client> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url, application_name: 'ferry-chaos-app' });
    client.on('error', () => {});
    try {
      await client.connect();
      return client;
    } catch (err) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  // 57P01-03: admin shutdown / crash shutdown / cannot connect now; 08xxx: connection exceptions.
  return code.startsWith('57P') || code.startsWith('08') || /ECONNREFUSED|ECONNRESET|terminat|Connection/i.test(String((err as Error).message));
}
