// The pgoutput plugin's messages (protocol version 1, with `messages 'true'`),
// decoded from the payload of a replication stream's XLogData. Pure: no I/O.
// https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html

/** A column's value as pgoutput sends it: text, NULL, or "unchanged TOAST" (only in a new image). */
export type TupleValue = string | null | { unchanged: true };

export interface RelationColumn {
  name: string;
  typeOid: number;
  typeMod: number;
}

export type PgOutputMessage =
  | { tag: 'begin'; finalLsn: bigint; commitTime: bigint; xid: number }
  | { tag: 'commit'; commitLsn: bigint; endLsn: bigint; commitTime: bigint }
  | { tag: 'relation'; relationId: number; schema: string; name: string; replicaIdentity: string; columns: RelationColumn[] }
  | { tag: 'insert'; relationId: number; new: TupleValue[] }
  | { tag: 'update'; relationId: number; old: TupleValue[] | null; new: TupleValue[] }
  | { tag: 'delete'; relationId: number; old: TupleValue[] | null }
  | { tag: 'message'; transactional: boolean; lsn: bigint; prefix: string; content: string }
  | { tag: 'other'; code: string };

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  private take<T>(size: number, read: (offset: number) => T): T {
    const v = read(this.pos);
    this.pos += size;
    return v;
  }
  u8 = () => this.take(1, (o) => this.buf.readUInt8(o));
  i16 = () => this.take(2, (o) => this.buf.readInt16BE(o));
  i32 = () => this.take(4, (o) => this.buf.readInt32BE(o));
  u32 = () => this.take(4, (o) => this.buf.readUInt32BE(o));
  u64 = () => this.take(8, (o) => this.buf.readBigUInt64BE(o));
  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  tuple(): TupleValue[] {
    const n = this.i16();
    const values: TupleValue[] = [];
    for (let i = 0; i < n; i++) {
      const kind = String.fromCharCode(this.u8());
      if (kind === 'n') values.push(null);
      else if (kind === 'u') values.push({ unchanged: true });
      else if (kind === 't') values.push(this.bytes(this.i32()).toString('utf8'));
      else throw new Error(`pgoutput: unexpected tuple value kind ${JSON.stringify(kind)}`);
    }
    return values;
  }
}

/** Decodes one pgoutput message. */
export function decodePgOutput(buf: Buffer): PgOutputMessage {
  const r = new Reader(buf);
  const code = String.fromCharCode(r.u8());
  switch (code) {
    case 'B':
      return { tag: 'begin', finalLsn: r.u64(), commitTime: r.u64(), xid: r.u32() };
    case 'C': {
      r.u8(); // flags, unused
      return { tag: 'commit', commitLsn: r.u64(), endLsn: r.u64(), commitTime: r.u64() };
    }
    case 'R': {
      const relationId = r.u32();
      const schema = r.cstring();
      const name = r.cstring();
      const replicaIdentity = String.fromCharCode(r.u8());
      const n = r.i16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < n; i++) {
        r.u8(); // flags (part of the key)
        columns.push({ name: r.cstring(), typeOid: r.u32(), typeMod: r.i32() });
      }
      return { tag: 'relation', relationId, schema, name, replicaIdentity, columns };
    }
    case 'I': {
      const relationId = r.u32();
      r.u8(); // 'N'
      return { tag: 'insert', relationId, new: r.tuple() };
    }
    case 'U': {
      const relationId = r.u32();
      let kind = String.fromCharCode(r.u8());
      let old: TupleValue[] | null = null;
      if (kind === 'K' || kind === 'O') {
        // 'K' holds only the key columns; an old image is whole only under REPLICA IDENTITY FULL ('O').
        const values = r.tuple();
        if (kind === 'O') old = values;
        kind = String.fromCharCode(r.u8());
      }
      return { tag: 'update', relationId, old, new: r.tuple() };
    }
    case 'D': {
      const relationId = r.u32();
      const kind = String.fromCharCode(r.u8());
      const values = r.tuple();
      return { tag: 'delete', relationId, old: kind === 'O' ? values : null };
    }
    case 'M': {
      const flags = r.u8();
      const lsn = r.u64();
      const prefix = r.cstring();
      const content = r.bytes(r.i32()).toString('utf8');
      return { tag: 'message', transactional: (flags & 1) === 1, lsn, prefix, content };
    }
    default:
      return { tag: 'other', code };
  }
}

/** An LSN as Postgres writes it: '16/B374D848'. */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

export function parseLsn(text: string): bigint {
  const [hi, lo] = text.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

/** Microseconds since 2000-01-01, the replication protocol's clock. */
export const PG_EPOCH_MS = 946_684_800_000;
