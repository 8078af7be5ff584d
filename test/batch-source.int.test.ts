// A batch reads each source row in full once and later only its version
// (activities/batch-source.ts): every write of a row, a delete, a row that
// appears and a key two rows share must show as moved, and nothing else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { movedSince, readSourceRows } from '../activities/batch-source.js';
import { withTransaction } from '../src/db/index.js';
import { createTestDatabase, type TestDatabase } from './support/harness.js';

const FILE = import.meta.url;
const SQL = `CREATE TABLE portal.versioned (k text, v text); CREATE INDEX ON portal.versioned (k);
INSERT INTO portal.versioned SELECT 'k' || i, 'v' || i FROM generate_series(1, 6) i;`;

describe('batch source rows: read once, then versions', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(FILE, SQL);
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('reads again exactly the rows that moved since', async () => {
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'];
    const first = await withTransaction(db.pool, (c) => readSourceRows(c, 'portal.versioned', 'k', keys));
    expect(first.shared).toBe(false);
    expect(first.rows.get('k1')!.row).toEqual({ k: 'k1', v: 'v1' });
    expect(first.rows.get('k7')).toEqual({ row: null, version: null });

    await db.pool.query(`UPDATE portal.versioned SET v = 'changed' WHERE k = 'k2'`);
    await db.pool.query(`UPDATE portal.versioned SET v = v WHERE k = 'k3'`); // same values: a new version all the same
    await db.pool.query(`DELETE FROM portal.versioned WHERE k = 'k4'`);
    await db.pool.query(`INSERT INTO portal.versioned VALUES ('k7', 'new'), ('k5', 'twin')`);

    const moved = await withTransaction(db.pool, (c) => movedSince(c, 'portal.versioned', 'k', first.rows));
    expect([...moved.rows.keys()].sort()).toEqual(['k2', 'k3', 'k4', 'k5', 'k7']);
    expect(moved.rows.get('k2')!.row).toEqual({ k: 'k2', v: 'changed' });
    expect(moved.rows.get('k4')).toEqual({ row: null, version: null });
    expect(moved.rows.get('k7')!.row).toEqual({ k: 'k7', v: 'new' });
    // k5 now names two rows: a batch fails such a row as a single sync does.
    expect(moved.shared).toBe(true);

    const again = await withTransaction(db.pool, (c) => movedSince(c, 'portal.versioned', 'k', new Map([['k1', first.rows.get('k1')!]])));
    expect(again.rows.size).toBe(0);
  });
});
