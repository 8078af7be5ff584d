// One replication connection streaming Ferry's slot, spoken with node-postgres
// (already Ferry's driver; docs/capture.md says why no replication library).
// It reports only what the caller says is in the log: the flush position it
// sends is the one given to confirm(), never the last position received.
import pg from 'pg';
import { decodePgOutput, PG_EPOCH_MS, type PgOutputMessage } from './pgoutput.js';

export interface SlotStreamOptions {
  url: string;
  slot: string;
  publication: string;
  onMessage: (msg: PgOutputMessage) => void;
}

export class SlotStream {
  private readonly client: pg.Client;
  private confirmed = 0n;
  private failed: Error | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  /** Settles when the stream ends: rejects with the server's error (a lost slot, a dropped connection). */
  ended: Promise<void> = Promise.resolve();

  constructor(private readonly opts: SlotStreamOptions) {
    this.client = new pg.Client({ connectionString: opts.url, replication: 'database', application_name: 'ferry-wal' } as pg.ClientConfig);
  }

  async start(from: bigint): Promise<void> {
    this.confirmed = from;
    const client = this.client;
    // A dropped socket is reported through `ended` (the query fails); this keeps it from being unhandled.
    client.on('error', () => {});
    await client.connect();
    const started = new Promise<void>((resolve) => (client as any).connection.once('replicationStart', resolve));
    (client as any).connection.on('copyData', (msg: { chunk: Buffer }) => this.onCopyData(msg.chunk));
    const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
    this.ended = client
      .query(
        `START_REPLICATION SLOT "${this.opts.slot}" LOGICAL 0/0 (proto_version '1', publication_names ${q(`"${this.opts.publication}"`)}, messages 'true')`,
      )
      .then(() => {
        if (this.failed) throw this.failed;
      })
      .catch((err) => {
        throw this.failed ?? err;
      });
    await Promise.race([started, this.ended]);
    // Postgres drops a walsender that says nothing for wal_sender_timeout (60 s by default).
    this.statusTimer = setInterval(() => this.sendStatus(false), 10_000);
    this.statusTimer.unref();
  }

  private onCopyData(chunk: Buffer): void {
    const kind = String.fromCharCode(chunk[0]!);
    try {
      if (kind === 'w') this.opts.onMessage(decodePgOutput(chunk.subarray(25)));
      else if (kind === 'k' && chunk.readUInt8(17) === 1) this.sendStatus(false);
    } catch (err) {
      // A message this cannot read: end the stream (the caller reconnects and reads it again).
      this.failed = err as Error;
      void this.client.end().catch(() => {});
    }
  }

  /** Tells Postgres everything up to `lsn` is in the log: the slot may let go of it. */
  confirm(lsn: bigint): void {
    if (lsn <= this.confirmed) return;
    this.confirmed = lsn;
    this.sendStatus(false);
  }

  private sendStatus(reply: boolean): void {
    const buf = Buffer.alloc(34);
    buf.write('r', 0);
    // Written, flushed and applied: all the same, the position whose changes are in the log.
    buf.writeBigUInt64BE(this.confirmed, 1);
    buf.writeBigUInt64BE(this.confirmed, 9);
    buf.writeBigUInt64BE(this.confirmed, 17);
    buf.writeBigUInt64BE(BigInt(Date.now() - PG_EPOCH_MS) * 1000n, 25);
    buf.writeUInt8(reply ? 1 : 0, 33);
    try {
      (this.client as any).connection.sendCopyFromChunk(buf);
    } catch {
      // The connection is gone; `ended` says so.
    }
  }

  async close(): Promise<void> {
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.sendStatus(false);
    await this.client.end().catch(() => {});
    await this.ended.catch(() => {});
  }
}
