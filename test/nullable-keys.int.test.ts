// A source key that may be NULL (Heroku Connect's sfid before Salesforce
// accepts a row; an External ID on a record made in Salesforce): such a row is
// outside its mapping until it has a key. On both lanes, and in backfill and
// verify.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackfill, waitForBackfill } from '../src/bulk/backfill-run.js';
import { verifyMapping } from '../src/bulk/verify.js';
import { mappingByName, type FerryConfig } from '../src/config.js';
import type { FerryProcess } from '../src/runtime.js';
import { createTestDatabase, LANES, logs, startFerry, testConfig, waitForSettled, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
const CRM_SQL = `
CREATE SCHEMA crm;
CREATE TABLE crm.contacts (id serial PRIMARY KEY, ext_id text UNIQUE, name text);
CREATE TABLE portal.people (id integer PRIMARY KEY, name text);
CREATE TABLE crm.leads (id serial PRIMARY KEY, ext_id text UNIQUE, name text);
CREATE TABLE portal.prospects (id serial PRIMARY KEY, name text);`;

describe.each(LANES)('%s lane: a nullable source key', (lane) => {
  let db: TestDatabase;
  let config: FerryConfig;
  let ferry: FerryProcess;
  const q = async (sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;
  const people = async () => (await q(`SELECT id, name FROM portal.people ORDER BY id`)).map((r) => `${r.id}:${r.name}`);
  const logsNow = async (mapping = 'contacts_to_people') => (await logs(db.pool, mapping)).map((l) => `${l.op} ${l.row_key} ${l.status}`);

  beforeAll(async () => {
    db = await createTestDatabase(FILE, CRM_SQL, { lane });
    config = testConfig(
      FILE,
      db,
      {
        mappings: [
          {
            name: 'contacts_to_people',
            source: { table: 'crm.contacts', key: 'ext_id' },
            target: { table: 'portal.people', key: 'id' },
            transform: (row) => ({ id: Number(row.ext_id), name: row.name }),
            onDelete: 'delete',
          },
          // The issue's own case: a two-way pair whose CRM side is keyed on an External ID.
          {
            name: 'prospects_to_leads',
            source: { table: 'portal.prospects', key: 'id' },
            target: { table: 'crm.leads', key: 'ext_id' },
            transform: (row) => ({ ext_id: String(row.id), name: row.name }),
          },
          {
            name: 'leads_to_prospects',
            source: { table: 'crm.leads', key: 'ext_id' },
            target: { table: 'portal.prospects', key: 'id' },
            transform: (row) => ({ id: Number(row.ext_id), name: row.name }),
            onDelete: 'ignore',
          },
        ],
      },
      lane,
    );
    // migrate (in startFerry) accepts the nullable key: it used to exit 2.
    ferry = await startFerry(config);
  });
  afterAll(async () => {
    await ferry?.stop();
    await db?.drop();
  });

  it('rows without a key: the writes succeed and nothing is logged or carried', async () => {
    await q(`INSERT INTO crm.contacts (name) VALUES ('made in the CRM 1'), ('made in the CRM 2')`);
    await q(`UPDATE crm.contacts SET name = name || ' (edited)' WHERE ext_id IS NULL`);
    await q(`DELETE FROM crm.contacts WHERE name = 'made in the CRM 2 (edited)'`);
    expect(await logsNow()).toEqual([]);
    expect(await q(`SELECT name FROM crm.contacts`)).toEqual([{ name: 'made in the CRM 1 (edited)' }]);
  });

  it('getting a key is an insert of it; losing it, a delete of the old key; a key change, both', async () => {
    await q(`INSERT INTO crm.contacts (ext_id, name) VALUES ('101', 'a'), ('102', 'b'), (NULL, 'c')`);
    await waitForSettled(db.pool);
    expect(await people()).toEqual(['101:a', '102:b']);
    const [{ last }] = await q(`SELECT max(id)::int AS last FROM ferry.database_trigger_log`);

    // One statement, three rows: NULL -> 103, 101 -> NULL, 102 -> 104.
    await q(`UPDATE crm.contacts SET ext_id = CASE ext_id WHEN '101' THEN NULL WHEN '102' THEN '104' ELSE '103' END
              WHERE name IN ('a', 'b', 'c')`);
    const settled = (await waitForSettled(db.pool)).filter((l) => l.id > last);
    expect(settled.map((l) => `${l.op} ${l.row_key}`).sort()).toEqual(['DELETE 101', 'DELETE 102', 'INSERT 103', 'UPDATE 104']);
    expect(settled.every((l) => l.status === 'synced')).toBe(true);
    expect(await people()).toEqual(['103:c', '104:b']);
    // The insert of a new key carries no before-image: the row is new to the mapping.
    expect(await q(`SELECT old_row FROM ferry.database_trigger_log WHERE op = 'INSERT' AND id > $1`, [last])).toEqual([{ old_row: null }]);

    // Edits of the row with its key flow as before; rows without one stay outside.
    await q(`UPDATE crm.contacts SET name = name || '!'`);
    await waitFor('the edit carried', async () => ((await people()).join() === '103:c!,104:b!' ? true : undefined));
    const edits = (await waitForSettled(db.pool)).filter((l) => l.id > last && l.op === 'UPDATE' && l.row_key !== '104');
    expect(edits.map((l) => `${l.row_key} ${l.status}`)).toEqual(['103 synced']);
  });

  it('a two-way pair keyed on an External ID: rows made in the CRM stay outside until they get one, and nothing echoes', async () => {
    await q(`INSERT INTO crm.leads (name) VALUES ('made in the CRM')`);
    const [prospect] = await q(`INSERT INTO portal.prospects (name) VALUES ('from the portal') RETURNING id`);
    await waitFor('the lead for the prospect', async () => (await q(`SELECT name FROM crm.leads WHERE ext_id = $1`, [String(prospect.id)]))[0]);
    await q(`UPDATE crm.leads SET name = 'edited in the CRM' WHERE ext_id = $1`, [String(prospect.id)]);
    await q(`UPDATE crm.leads SET ext_id = '900' WHERE name = 'made in the CRM'`);
    await waitFor('both CRM changes in the portal', async () => {
      const names = (await q(`SELECT id, name FROM portal.prospects ORDER BY id`)).map((r) => `${r.id}:${r.name}`);
      return names.join() === `${prospect.id}:edited in the CRM,900:made in the CRM` ? true : undefined;
    });
    await waitForSettled(db.pool);
    // One log per write that was not Ferry's: the portal insert, the CRM edit, the CRM lead getting its key.
    expect(await logsNow('prospects_to_leads')).toEqual([`INSERT ${prospect.id} synced`]);
    expect(await logsNow('leads_to_prospects')).toEqual([`UPDATE ${prospect.id} synced`, 'INSERT 900 synced']);
  });

  it('backfill and verify read only the rows with a key: none is counted missing', async () => {
    await q(`INSERT INTO crm.contacts (ext_id, name) SELECT CASE WHEN i % 2 = 0 THEN (1000 + i)::text END, 'n' || i FROM generate_series(1, 40) i`);
    await waitForSettled(db.pool);
    const keyed = Number((await q(`SELECT count(ext_id)::int AS n FROM crm.contacts`))[0].n);
    expect(keyed).toBe(22); // 103, 104 and 20 of the 40
    const mapping = mappingByName(config, 'contacts_to_people')!;
    // One chunk holds them all: the first chunk is the one a NULL key could slip into (later ones start after a key).
    const before = await verifyMapping(db.pool, config, mapping, { batch: 500 });
    expect(before).toMatchObject({ rows: keyed, equal: keyed, missing: 0, differs: 0, orphans: 0, errors: 0 });

    // The target lost its rows (no mapping reads it): verify finds each missing, backfill carries them back.
    await q(`DELETE FROM portal.people`);
    const lost = await verifyMapping(db.pool, config, mapping, { batch: 7 });
    expect(lost).toMatchObject({ rows: keyed, equal: 0, missing: keyed, errors: 0 });
    const outcome = await waitForBackfill(await startBackfill(ferry.client!, config, mapping, { batch: 500 }), { update() {}, end() {} });
    expect(outcome).toMatchObject({ ok: true, progress: { rowsDone: keyed, rowsTotal: keyed, carried: keyed } });
    await waitForSettled(db.pool);
    expect((await people()).length).toBe(keyed);
    const after = await verifyMapping(db.pool, config, mapping, { batch: 500 });
    expect(after).toMatchObject({ rows: keyed, equal: keyed, missing: 0, differs: 0, orphans: 0 });
  }, 120_000);
});
