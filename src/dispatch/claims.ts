import pg from 'pg';
import { logTable } from '../db/index.js';

/**
 * This process' identity as a claimer of logs: a random owner id whose
 * session advisory lock it holds on a connection of its own. Postgres drops
 * the lock the moment that connection goes (kill -9 included), and from then
 * on every claim stamped with the id is anyone's to dispatch again. Needs a
 * direct connection (session locks do not survive a transaction pooler), the
 * same as LISTEN.
 */
export class ClaimOwner {
  private current: Promise<{ client: pg.Client; id: number }> | undefined;

  constructor(private readonly url: string) {}

  /** The owner id, its lock held: connects and locks on first use, and again after the connection is lost. */
  async id(): Promise<number> {
    this.current ??= this.acquire();
    try {
      return (await this.current).id;
    } catch (err) {
      this.current = undefined;
      throw err;
    }
  }

  private acquire(): Promise<{ client: pg.Client; id: number }> {
    const attempt = (async () => {
      const client = new pg.Client({ connectionString: this.url, application_name: 'ferry-claims', keepAlive: true });
      // Lost connection, lost lock: the next claim takes a new id; the old claims are anyone's.
      const lost = () => {
        if (this.current === attempt) this.current = undefined;
      };
      client.on('error', lost);
      client.on('end', lost);
      await client.connect();
      for (;;) {
        const id = 1 + Math.floor(Math.random() * 0x7ffffffe);
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [logTable.CLAIM_LOCK_CLASS, id]);
        if (rows[0]!.ok) return { client, id };
      }
    })();
    return attempt;
  }

  /** Lets go of the lock (and so of every claim made under it). */
  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (!current) return;
    try {
      await (await current).client.end();
    } catch {
      // never connected: nothing to let go of
    }
  }
}
