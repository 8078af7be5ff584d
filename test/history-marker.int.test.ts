// Row data stays out of Temporal: a unique marker written into source rows
// never shows up in a workflow's history, search attributes or memo, whether
// the sync was synced, skipped, superseded, failed or is waiting for its parent.
// (`temporal workflow show` is readable by anyone with namespace access.)
// Each case runs with the payload codec off and on: on, every payload of the
// history is sealed (binary/encrypted) and opens with the key.
import { randomUUID } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleMappings } from '../example/mappings.js';
import { startBackfill, waitForBackfill } from '../src/bulk/backfill-run.js';
import { verifyCommand } from '../src/commands/verify.js';
import { mappingByName, type FerryConfig } from '../src/config.js';
import { backfillWorkflowId } from '../src/contract/index.js';
import { silentLogger } from '../src/logger.js';
import type { FerryProcess } from '../src/runtime.js';
import { AesGcmCodec, ENCRYPTED_ENCODING } from '../src/temporal/codec.js';
import { codecKeyFile, codecTemporal } from './support/codec.js';
import { createTestDatabase, logs, startFerry, testConfig, type TestDatabase } from './support/harness.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
const SQL = `
  CREATE TABLE portal.notes (id serial PRIMARY KEY, body text);
  CREATE TABLE salesforce.note__c (portal_note_id__c text PRIMARY KEY, body__c text);
  CREATE TABLE portal.cards (number text PRIMARY KEY, holder text);
  CREATE TABLE salesforce.card__c (number__c text PRIMARY KEY, holder__c text);
  -- A target trigger that refuses some rows, quoting them.
  CREATE FUNCTION salesforce.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.holder__c LIKE 'taken%' THEN RAISE '% taken', NEW.holder__c; END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON salesforce.card__c FOR EACH ROW EXECUTE FUNCTION salesforce.refuse();
  -- A child whose parent key is a card number.
  CREATE TABLE portal.charges (id serial PRIMARY KEY, card_number text, amount int);
  CREATE TABLE salesforce.charge__c (portal_charge_id__c text PRIMARY KEY, card__c text, amount__c int);`;

let db: TestDatabase;
let config: FerryConfig;
let ferry: FerryProcess | undefined;

type Variant = { codec: 'off' | 'on' };
const VARIANTS: Variant[] = [{ codec: 'off' }, { codec: 'on' }];

interface Running {
  db: TestDatabase;
  config: FerryConfig;
  ferry: FerryProcess;
}
const running = new Map<Variant['codec'], Running>();

/** Both variants run side by side (their own database, instance and task queue); each case uses one. */
beforeAll(async () => {
  for (const variant of VARIANTS) running.set(variant.codec, await start(variant));
});

afterAll(async () => {
  for (const r of running.values()) {
    await r.ferry.stop();
    await r.db.drop();
  }
});

function use({ codec: on }: Variant) {
  ({ db, config, ferry } = running.get(on)!);
}

async function start({ codec: on }: Variant): Promise<Running> {
  const db = await createTestDatabase(FILE, SQL, on === 'on' ? { suffix: 'codec' } : {});
  const config = testConfig(FILE, db, {
    ...(on === 'on' ? { temporal: codecTemporal(FILE, codecKeyFile()) } : {}),
    mappings: [
      ...exampleMappings,
      {
        name: 'notes',
        source: { table: 'portal.notes', key: 'id' },
        target: { table: 'salesforce.note__c', key: 'portal_note_id__c' },
        transform: (row) => {
          const body = String(row.body);
          if (body.startsWith('skip')) return null;
          if (body.startsWith('fail')) throw new Error(`refused: ${body}`);
          return { portal_note_id__c: String(row.id), body__c: body };
        },
      },
      {
        name: 'cards',
        source: { table: 'portal.cards', key: 'number' },
        target: { table: 'salesforce.card__c', key: 'number__c' },
        transform: (row) => ({ number__c: row.number, holder__c: row.holder }),
      },
      {
        name: 'charges',
        source: { table: 'portal.charges', key: 'id' },
        target: { table: 'salesforce.charge__c', key: 'portal_charge_id__c' },
        parents: [{ mapping: 'cards', column: 'card_number' }],
        transform: (row) => ({ portal_charge_id__c: String(row.id), card__c: row.card_number, amount__c: row.amount }),
      },
    ],
  });
  return { db, config, ferry: await startFerry(config) };
}

/**
 * Every payload in a history, but those Temporal writes in the clear by design:
 * search attributes (ids and names only) and a local activity marker's own
 * bookkeeping (`details.data`: its sequence number, attempt, activity type and
 * time, written by the SDK's core, never through the codec; its `result` is sealed).
 */
function payloadsIn(v: unknown, at = '', out: { at: string; payload: Payload }[] = []): { at: string; payload: Payload }[] {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return out;
  if ('metadata' in v && 'data' in v && (v as Payload).metadata) out.push({ at, payload: v as Payload });
  else
    for (const [k, x] of Object.entries(v))
      if (k !== 'searchAttributes' && !(k === 'data' && at.endsWith('markerRecordedEventAttributes.details'))) payloadsIn(x, `${at}.${k}`, out);
  return out;
}

/** With the codec on: every payload is sealed, opens with the key, and Ferry's own sentences show only once opened. */
async function opened(history: unknown, raw: string): Promise<Payload[]> {
  if (!config.temporal.codec) return [];
  const codec = AesGcmCodec.of(config.temporal.codec);
  const payloads = payloadsIn(history);
  expect(payloads.length).toBeGreaterThan(0);
  const encoding = (p: Payload) => Buffer.from(p.metadata![METADATA_ENCODING_KEY] ?? []).toString();
  const clear = payloads.filter(({ payload }) => encoding(payload) !== ENCRYPTED_ENCODING).map(({ at, payload }) => `${at}: ${encoding(payload)}`);
  expect(clear, `payloads not sealed: ${clear.join('; ')}`).toEqual([]);
  expect(raw).not.toMatch(/"detail"|the message is in its log row/);
  return codec.decode(payloads.map(({ payload }) => payload));
}

/** Every text Temporal holds about a workflow (its latest run, or `runId`): its history (payloads decoded as UTF-8), search attributes and memo. */
async function temporalText(workflowId: string, runId?: string): Promise<string> {
  const handle = ferry!.client!.workflow.getHandle(workflowId, runId);
  const parts: string[] = [];
  const walk = (v: unknown): void => {
    if (v === null || v === undefined) return;
    if (v instanceof Uint8Array) parts.push(Buffer.from(v).toString('utf8'));
    else if (typeof v === 'string') parts.push(v);
    else if (typeof v === 'object') for (const x of Object.values(v as object)) walk(x);
  };
  const history = await handle.fetchHistory();
  walk(history);
  walk(await opened(history, parts.join('\n')));
  const description = await handle.describe();
  walk(description.raw);
  parts.push(JSON.stringify(description.searchAttributes), JSON.stringify(await description.memo));
  return parts.join('\n');
}

const workflowIdsOf = async (mapping: string, rowKey: string) =>
  (
    await db.pool.query<{ workflow_id: string; status: string; error: string | null }>(
      `SELECT workflow_id, status, error FROM ferry.database_trigger_log WHERE mapping = $1 AND row_key = $2 ORDER BY id`,
      [mapping, rowKey],
    )
  ).rows;

async function expectNowhereInTemporal(marker: string, mapping: string, rowKey: string, statuses: string[]) {
  const rows = await waitFor(`${mapping} ${rowKey}: ${statuses.join(', ')}`, async () => {
    const r = await workflowIdsOf(mapping, rowKey);
    return r.length === statuses.length && r.every((l, i) => l.workflow_id && l.status === statuses[i]) ? r : undefined;
  });
  const texts: string[] = [];
  // A log carried by a newer one names the newer one's workflow: search each workflow once.
  const waiting = rows.some((l) => l.status === 'pending');
  for (const workflowId of new Set(rows.map((l) => l.workflow_id))) {
    // A log turns final inside the sync's transaction, a moment before Temporal records the result.
    if (!waiting)
      await ferry!
        .client!.workflow.getHandle(workflowId)
        .result()
        .catch(() => undefined);
    const text = await waitFor(`history of ${workflowId}`, async () => {
      const t = await temporalText(workflowId);
      return !waiting || t.includes('waiting_parent') ? t : undefined;
    });
    expect(text.length).toBeGreaterThan(100); // there is a history to search
    expect(text).not.toContain(marker);
    texts.push(text);
  }
  return texts;
}

describe.each(VARIANTS)('no row data in Temporal (codec $codec)', (variant) => {
  beforeAll(() => use(variant));

  it('synced', async () => {
    const marker = `MARKER-${randomUUID()}`;
    const { rows } = await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ($1, $1) RETURNING id`, [marker]);
    const [text] = await expectNowhereInTemporal(marker, 'users_to_accounts', String(rows[0].id), ['synced']);
    expect(text).toContain('"detail":"upserted"'); // payloads are searched decoded (the sync's result)
  });

  it('skipped (the transform returned null)', async () => {
    const marker = `skip MARKER-${randomUUID()}`;
    const { rows } = await db.pool.query(`INSERT INTO portal.notes (body) VALUES ($1) RETURNING id`, [marker]);
    await expectNowhereInTemporal(marker, 'notes', String(rows[0].id), ['skipped']);
  });

  it('superseded (three changes in one transaction: the newest carries the others)', async () => {
    const marker = `MARKER-${randomUUID()}`;
    const client = await db.pool.connect();
    let id: number;
    try {
      await client.query('BEGIN');
      id = (await client.query(`INSERT INTO portal.notes (body) VALUES ($1 || ' 1') RETURNING id`, [marker])).rows[0].id;
      await client.query(`UPDATE portal.notes SET body = $1 || ' 2' WHERE id = $2`, [marker, id]);
      await client.query(`UPDATE portal.notes SET body = $1 || ' 3' WHERE id = $2`, [marker, id]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await expectNowhereInTemporal(marker, 'notes', String(id), ['skipped', 'skipped', 'synced']);
  });

  it('waiting for its parent', async () => {
    const marker = `MARKER-${randomUUID()}`;
    // user 987654 does not exist: the order waits (and its workflow records the wait).
    const { rows } = await db.pool.query(`INSERT INTO portal.orders (user_id, amount, status) VALUES (987654, 1, $1) RETURNING id`, [marker]);
    const key = String(rows[0].id);
    await waitFor('order waiting', async () => (await logs(db.pool, 'orders_to_orders')).find((l) => l.row_key === key && l.attempts >= 1));
    await expectNowhereInTemporal(marker, 'orders_to_orders', key, ['pending']);
    await db.pool.query(`DELETE FROM portal.orders WHERE id = $1`, [rows[0].id]);
  });

  it("failed: the transform's message (it may quote the row) stays in the log row", async () => {
    const marker = `fail MARKER-${randomUUID()}`;
    const { rows } = await db.pool.query(`INSERT INTO portal.notes (body) VALUES ($1) RETURNING id`, [marker]);
    const [log] = await waitFor('failed', async () => {
      const r = await workflowIdsOf('notes', String(rows[0].id));
      return r[0]?.status === 'failed' ? r : undefined;
    });
    expect(log!.error).toBe(`transform of notes threw: refused: ${marker}`);
    const text = await waitFor('failure recorded', async () => {
      const t = await temporalText(log!.workflow_id);
      return t.includes('the message is in its log row') ? t : undefined;
    });
    expect(text).not.toContain(marker);
  });
});

describe.each(VARIANTS)('no row data in Temporal: keys and errors (codec $codec)', (variant) => {
  beforeAll(() => use(variant));

  // A card number is a key that looks like an id: it must not name the workflow in the Web UI either.
  const cardNumber = () => `4${String(Math.floor(Math.random() * 1e15)).padStart(15, '0')}`;

  it('a key that looks like an id (a card number)', async () => {
    const marker = cardNumber();
    await db.pool.query(`INSERT INTO portal.cards VALUES ($1, 'Ada')`, [marker]);
    await expectNowhereInTemporal(marker, 'cards', marker, ['synced']);
  });

  it("a target trigger's error that quotes the row (P0001) stays in the log row", async () => {
    const number = cardNumber();
    const marker = `taken MARKER-${randomUUID()}`;
    await db.pool.query(`INSERT INTO portal.cards VALUES ($1, $2)`, [number, marker]);
    const [log] = await waitFor('failed', async () => {
      const r = await workflowIdsOf('cards', number);
      return r[0]?.status === 'failed' ? r : undefined;
    });
    expect(log!.error).toContain(`${marker} taken`);
    expect(log!.error).toContain('SQLSTATE P0001');
    const text = await waitFor('failure recorded', async () => {
      const t = await temporalText(log!.workflow_id);
      return t.includes('the message is in its log row') ? t : undefined;
    });
    expect(text).not.toContain(marker);
    expect(text).not.toContain(number);
  });
});

/**
 * Every run of every workflow of this variant (its task queue), as text: what anyone
 * with namespace access reads. The other variant's runs share the namespace; with the
 * codec on, its clear payloads would be counted against this one.
 */
async function everyTemporalText(mustInclude: string[]): Promise<string> {
  const query = `TaskQueue = '${config.temporal.taskQueue}'`;
  const runs = await waitFor('every workflow listed', async () => {
    const found: { workflowId: string; runId: string }[] = [];
    for await (const wf of ferry!.client!.workflow.list({ query })) found.push({ workflowId: wf.workflowId, runId: wf.runId });
    return mustInclude.every((id) => found.some((f) => f.workflowId === id)) ? found : undefined;
  });
  const texts: string[] = [];
  for (const { workflowId, runId } of runs) texts.push(await temporalText(workflowId, runId));
  return texts.join('\n');
}

describe.each(VARIANTS)('no row data in Temporal: backfill, repair and parent keys (codec $codec)', (variant) => {
  beforeAll(() => use(variant));
  const cardNumber = () => `4${String(Math.floor(Math.random() * 1e15)).padStart(15, '0')}`;
  const quiet = { update() {}, end() {} };

  it('a marker inside a --where stays in ferry.backfill_inputs', async () => {
    const marker = `MARKER-${randomUUID()}`;
    await db.pool.query(`INSERT INTO portal.users (email, full_name) SELECT 'bf' || i || '@example.com', 'bf ' || i FROM generate_series(1, 5) i`);
    const handle = await startBackfill(ferry!.client!, config, mappingByName(config, 'users_to_accounts')!, {
      batch: 2,
      where: `email <> '${marker}' AND full_name <> '${marker}'`,
    });
    const outcome = await waitForBackfill(handle, quiet);
    expect(outcome.ok).toBe(true);
    expect(outcome.progress!.rowsDone).toBeGreaterThan(2); // more than one chunk: cursors were kept
    const text = await everyTemporalText([handle.workflowId]);
    expect(text).toContain('"runId"'); // the input names the run
    expect(text).not.toContain(marker);
  });

  it('markers as the source keys a backfill walks: its cursor stays in ferry.backfill_inputs', async () => {
    const markers = [`MARKER-${randomUUID()}`, `MARKER-${randomUUID()}`];
    await db.pool.query(`INSERT INTO portal.cards SELECT k, 'Cy' FROM unnest($1::text[]) k`, [markers]);
    const handle = await startBackfill(ferry!.client!, config, mappingByName(config, 'cards')!, { batch: 1 });
    const outcome = await waitForBackfill(handle, quiet);
    expect(outcome.ok).toBe(true);
    expect(outcome.progress!.rowsDone).toBeGreaterThanOrEqual(2); // a chunk a key: each cursor was a marker
    const text = await everyTemporalText([handle.workflowId]);
    for (const marker of markers) expect(text).not.toContain(marker);
  });

  it('verify --repair: a missing row and an orphan whose keys are markers', async () => {
    const missing = `MARKER-${randomUUID()}`;
    const orphan = `MARKER-${randomUUID()}`;
    await db.pool.query(`INSERT INTO portal.cards VALUES ($1, 'Ada')`, [missing]);
    const target = async (key: string) => (await db.pool.query(`SELECT holder__c FROM salesforce.card__c WHERE number__c = $1`, [key])).rows[0];
    await waitFor('the card carried', async () => (await target(missing)) !== undefined);
    // A target row lost (the missing one), and one no source row produces (the orphan).
    await db.pool.query(`DELETE FROM salesforce.card__c WHERE number__c = $1`, [missing]);
    await db.pool.query(`INSERT INTO salesforce.card__c VALUES ($1, 'Nobody')`, [orphan]);
    await verifyCommand(config, silentLogger, { mappings: ['cards'], repair: true, json: true, batch: 100 });
    expect(await target(missing)).toEqual({ holder__c: 'Ada' });
    expect(await target(orphan)).toBeUndefined();
    const text = await everyTemporalText([backfillWorkflowId(config.instance, 'cards')]);
    expect(text).not.toContain(missing);
    expect(text).not.toContain(orphan);
  });

  it("a parent key while a child waits, and while the child runs its parent's log", async () => {
    const absent = cardNumber();
    const { rows } = await db.pool.query(`INSERT INTO portal.charges (card_number, amount) VALUES ($1, 1) RETURNING id`, [absent]);
    const waiting = String(rows[0].id);
    await waitFor('charge waiting', async () => (await logs(db.pool, 'charges')).find((l) => l.row_key === waiting && l.attempts >= 1));
    // Child first, then its parent, in one transaction: the child's workflow may run the parent's log as its child.
    const present = cardNumber();
    const client = await db.pool.connect();
    let child: string;
    try {
      await client.query('BEGIN');
      child = String((await client.query(`INSERT INTO portal.charges (card_number, amount) VALUES ($1, 2) RETURNING id`, [present])).rows[0].id);
      await client.query(`INSERT INTO portal.cards VALUES ($1, 'Bo')`, [present]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await expectNowhereInTemporal(absent, 'charges', waiting, ['pending']);
    await expectNowhereInTemporal(present, 'charges', child, ['synced']);
    const text = await everyTemporalText([]);
    expect(text).toContain('waiting_parent');
    expect(text).not.toContain(absent);
    expect(text).not.toContain(present);
    await db.pool.query(`DELETE FROM portal.charges WHERE id = $1`, [Number(waiting)]);
  });
});
