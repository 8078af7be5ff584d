import { ApplicationFailure } from '@temporalio/activity';
import type { PgClient } from '../src/db/index.js';
import type { Mapping, Row } from '../src/config.js';
import {
  deleteStatement,
  insertReturningKeyStatement,
  softDeleteStatement,
  upsertManyStatement,
  upsertStatement,
  writeBackStatement,
  type Statement,
} from '../src/statements.js';
import { TARGET_WRITE_ERROR } from '../src/contract/index.js';

/**
 * Marks the rest of this transaction as Ferry's own write, copied from the
 * given tables: the log trigger then skips mappings that would carry the
 * values straight back (no echo). In WAL mode ferry.seal_own_write (sql/013)
 * also emits a sealed transactional message, which reaches the slot ahead of
 * the writes it covers; in trigger mode it does nothing.
 */
export async function markOwnWrite(client: PgClient, originTables: string[]): Promise<void> {
  await client.query(`SELECT set_config('ferry.origin', $1, true), ferry.seal_own_write($1)`, [originTables.join(',')]);
}

// SQLSTATE classes that no retry can fix, the row itself does not fit: cardinality
// (a source key that is not unique), data, integrity, syntax or a missing
// object, program limits (a value over the btree size limit), a trigger's
// RAISE (PL/pgSQL), a feature not supported.
const DATA_ERROR_CLASSES = ['21', '22', '23', '42', '54', 'P0', '0A'];

/**
 * A database error that no retry can fix (bad data, a missing table or
 * column) as a non-retryable failure saying what was being done; any other
 * error (connection trouble, deadlock, serialization) as it is, for Temporal
 * to retry with backoff.
 */
export function asDataFailure(err: unknown, doing: string): unknown {
  const code = (err as { code?: string }).code;
  if (!code || !DATA_ERROR_CLASSES.includes(code.slice(0, 2))) return err;
  return ApplicationFailure.nonRetryable(`${doing} failed: ${(err as Error).message} (SQLSTATE ${code})`, TARGET_WRITE_ERROR);
}

/** Builds and runs a statement: a row that cannot even be put into one (say, a value JSON cannot hold) is a data failure too. */
async function run(client: PgClient, mapping: Mapping, build: () => Statement): Promise<{ rowCount: number; rows: Row[] }> {
  const doing = `writing ${mapping.target.table} for ${mapping.name}`;
  let statement: Statement;
  try {
    statement = build();
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`${doing} failed: the statement could not be built: ${(err as Error).message}`, TARGET_WRITE_ERROR);
  }
  try {
    const result = await client.query(statement);
    return { rowCount: result.rowCount ?? 0, rows: result.rows };
  } catch (err) {
    throw asDataFailure(err, doing);
  }
}

/** Writes exactly the columns the transform returned; returns rows changed (0 when already equal). */
/** upsertTarget for many rows with the same columns (distinct keys), in one statement. */
export async function upsertTargets(client: PgClient, mapping: Mapping, columns: string[], rows: Row[]): Promise<number> {
  return (await run(client, mapping, () => upsertManyStatement(mapping.target.table, mapping.target.key, columns, rows))).rowCount;
}

export async function upsertTarget(client: PgClient, mapping: Mapping, row: Row): Promise<number> {
  return (await run(client, mapping, () => upsertStatement(mapping.target.table, mapping.target.key, row))).rowCount;
}

/** Applies the mapping's onDelete policy to the target row with this key. */
export async function deleteTarget(client: PgClient, mapping: Mapping, key: unknown): Promise<number> {
  const policy = mapping.onDelete;
  if (policy === 'ignore') return 0;
  const build = () =>
    policy === 'delete'
      ? deleteStatement(mapping.target.table, mapping.target.key, key)
      : softDeleteStatement(mapping.target.table, mapping.target.key, key, policy.softDelete);
  return (await run(client, mapping, build)).rowCount;
}

/**
 * Linking: creates the counterpart of a row made on the other side and writes
 * its generated key back into the origin row. Both writes are Ferry's own,
 * copied between the two tables, so neither is logged again.
 */
export async function linkTarget(client: PgClient, mapping: Mapping, row: Row, sourceKey: string): Promise<unknown> {
  const { writeBack } = mapping.link!;
  await markOwnWrite(client, [mapping.source.table, mapping.target.table]);
  const inserted = await run(client, mapping, () => insertReturningKeyStatement(mapping.target.table, mapping.target.key, row));
  const key = inserted.rows[0]!.key;
  await run(client, mapping, () => writeBackStatement(mapping.source.table, mapping.source.key, sourceKey, writeBack, key));
  return key;
}
