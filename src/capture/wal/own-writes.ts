// Ferry's own writes in WAL mode (echo suppression). Each of Ferry's write
// transactions emits a `ferry.origin` message naming the tables its values
// came from, sealed by ferry.seal_own_write (sql/013) with a key no app role
// can read. Any role may emit a message with that prefix: one whose seal does
// not match is not Ferry's, and the transaction is captured like any other.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { PgClient, Pool } from '../../db/index.js';

/** The key that opens the seals; undefined when this session's role is not Ferry's runtime (it may not UPDATE the log). */
export async function readOriginKey(client: PgClient | Pool): Promise<Buffer | undefined> {
  const { rows } = await client.query<{ key: Buffer | null }>(`SELECT ferry.origin_key() AS key`);
  return rows[0]?.key ?? undefined;
}

/** The seal over a transaction id and the tables, as sql/013 computes it. */
export function seal(key: Buffer, xid: number, origin: string): Buffer {
  return createHash('sha256').update(key).update(`${xid};${origin}`, 'utf8').digest();
}

/**
 * The tables a `ferry.origin` message of transaction `xid` names, when its
 * seal is Ferry's (`[]`: none); undefined when it is not.
 */
export function openOwnWrite(content: string, xid: number, key: Buffer | undefined): { tables: string[] } | undefined {
  const at = content.lastIndexOf(';');
  if (!key || at < 0) return undefined;
  const origin = content.slice(0, at);
  const given = Buffer.from(content.slice(at + 1), 'hex');
  const expected = seal(key, xid, origin);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return { tables: origin === '' ? [] : origin.split(',') };
}
