// Heroku Connect's far side, simulated, on the example's schemas (example/schema.sql:
// `portal`, and `salesforce` shaped as Heroku Connect keeps it). Heroku
// Connect's own trigger marks every write that is not its own PENDING; the
// simulator, writing as the connector's role, plays Salesforce: it gives each
// PENDING row an sfid and marks it SYNCED, or FAILED with a JSON _hc_err when
// a rule of the test's says Salesforce refuses it, and it makes records of
// its own (sfid set, External ID NULL).
//
// Run it by hand against a database (docs/heroku-connect.md):
//   npx tsx test/support/heroku-connect-fixture.ts postgres://postgres@127.0.0.1:5432/ferry_example
import pg from 'pg';
import { fileURLToPath } from 'node:url';

/** The connector's role: its writes are Salesforce's, not the app's. */
export const CONNECTOR_ROLE = 'ferry_hc_connector';

/** The objects the simulator serves, with their Salesforce key prefixes (001 Account, 003 Contact). */
const OBJECTS = { account: '001', contact: '003' } as const;
export type HerokuObject = keyof typeof OBJECTS;

/**
 * The connector's side of the schema: its role, and its trigger on each
 * object, which marks every write but its own PENDING. Idempotent. Run after
 * `ferry migrate` (the role writes Ferry's log through the capture triggers).
 */
export const HEROKU_CONNECT_FIXTURE_SQL = `
DO $$ BEGIN CREATE ROLE ${CONNECTOR_ROLE} NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
GRANT USAGE ON SCHEMA salesforce TO ${CONNECTOR_ROLE};
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA salesforce TO ${CONNECTOR_ROLE};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA salesforce TO ${CONNECTOR_ROLE};
DO $$ BEGIN
  IF to_regnamespace('ferry') IS NOT NULL THEN
    EXECUTE 'GRANT USAGE ON SCHEMA ferry TO ${CONNECTOR_ROLE}';
    EXECUTE 'GRANT SELECT, INSERT ON ferry.database_trigger_log TO ${CONNECTOR_ROLE}';
    EXECUTE 'GRANT USAGE ON ALL SEQUENCES IN SCHEMA ferry TO ${CONNECTOR_ROLE}';
  END IF;
END $$;
CREATE OR REPLACE FUNCTION salesforce.hc_mark_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_user <> '${CONNECTOR_ROLE}' THEN
    NEW._hc_lastop := 'PENDING';
    NEW._hc_err := NULL;
  END IF;
  RETURN NEW;
END $$;
${Object.keys(OBJECTS)
  .map(
    (o) => `CREATE OR REPLACE TRIGGER hc_mark_pending BEFORE INSERT OR UPDATE ON salesforce.${o}
  FOR EACH ROW EXECUTE FUNCTION salesforce.hc_mark_pending();`,
  )
  .join('\n')}
`;

export interface SimulatorOptions {
  /** Per object, an SQL condition on the row: Salesforce refuses such rows (FAILED, with _hc_err). */
  reject?: Partial<Record<HerokuObject, string>>;
  /** How often to look for PENDING rows when started. */
  intervalMs?: number;
}

export class HerokuConnectSimulator {
  /** Rows the connector wrote (each one a change Ferry's capture logs). */
  rowsWritten = 0;
  private client: pg.Client;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    url: string,
    /** Mutable: a test relaxes a rule (a fix in Salesforce) and sends the rejected rows again. */
    readonly opts: SimulatorOptions = {},
  ) {
    this.client = new pg.Client({ connectionString: url, application_name: 'heroku-connect-simulator' });
  }

  async connect(): Promise<this> {
    await this.client.connect();
    await this.client.query(HEROKU_CONNECT_FIXTURE_SQL);
    await this.client.query(`SET ROLE ${CONNECTOR_ROLE}`);
    return this;
  }

  /** Serves PENDING rows every intervalMs until stop(). */
  start(): this {
    const tick = () => {
      this.running = this.step().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.opts.intervalMs ?? 100);
      });
    };
    this.timer = setTimeout(tick, 0);
    return this;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running.catch(() => undefined);
    await this.client.end();
  }

  /** One pass: every PENDING row is accepted (sfid, SYNCED) or refused (FAILED, _hc_err). Returns the rows written. */
  async step(): Promise<number> {
    let written = 0;
    for (const [object, prefix] of Object.entries(OBJECTS)) {
      const refused = this.opts.reject?.[object as HerokuObject] ?? 'false';
      const { rowCount } = await this.client.query(
        `UPDATE salesforce.${object} SET
            sfid = CASE WHEN (${refused}) THEN sfid ELSE coalesce(sfid, ${sfidOf(prefix, 'id')}) END,
            _hc_lastop = CASE WHEN (${refused}) THEN 'FAILED' ELSE 'SYNCED' END,
            _hc_err = CASE WHEN (${refused}) THEN json_build_object('op', CASE WHEN sfid IS NULL THEN 'INSERT' ELSE 'UPDATE' END, 'src', 'SFDC',
                        'msg', 'FIELD_CUSTOM_VALIDATION_EXCEPTION: rejected by a validation rule')::text END,
            systemmodstamp = now()
          WHERE _hc_lastop = 'PENDING'`,
      );
      written += rowCount ?? 0;
      this.rowsWritten += rowCount ?? 0;
    }
    return written;
  }

  /** Records made in Salesforce (rows with the same columns): sfid set, External IDs NULL, already SYNCED. Returns their sfids. */
  async createInSalesforce(object: HerokuObject, rows: Record<string, unknown>[]): Promise<string[]> {
    const columns = Object.keys(rows[0] ?? {}).map((c) => `"${c}"`);
    const { rows: made } = await this.client.query<{ sfid: string }>(
      `WITH r AS (SELECT nextval(pg_get_serial_sequence('salesforce.${object}', 'id')) AS id, v FROM jsonb_array_elements($1::jsonb) v)
       INSERT INTO salesforce.${object} (id, sfid, _hc_lastop${columns.map((c) => `, ${c}`).join('')})
       SELECT r.id, ${sfidOf(OBJECTS[object], 'r.id')}, 'SYNCED'${columns.map((c) => `, p.${c}`).join('')}
         FROM r, LATERAL jsonb_populate_record(NULL::salesforce.${object}, r.v) p
       RETURNING sfid`,
      [JSON.stringify(rows)],
    );
    this.rowsWritten += made.length;
    return made.map((r) => r.sfid);
  }

  /** Edits made in Salesforce, to the row with this sfid. */
  async editInSalesforce(object: HerokuObject, sfid: string, values: Record<string, unknown>): Promise<void> {
    const { rowCount } = await this.client.query(
      `UPDATE salesforce.${object} t SET ${Object.keys(values)
        .map((c, i) => `"${c}" = (jsonb_populate_record(NULL::salesforce.${object}, $${i + 2}::jsonb))."${c}"`)
        .join(', ')}, systemmodstamp = now() WHERE t.sfid = $1`,
      [sfid, ...Object.keys(values).map((c) => JSON.stringify({ [c]: values[c] }))],
    );
    this.rowsWritten += rowCount ?? 0;
  }
}

/** An 18-character Salesforce id from the row's local id: the object's prefix, then the id in hex. */
function sfidOf(prefix: string, idSql: string): string {
  return `'${prefix}' || lpad(upper(to_hex(${idSql})), 15, '0')`;
}

// By hand: serve PENDING rows until interrupted. Second argument: the SQL
// condition on salesforce.account rows that Salesforce refuses (default: an
// email without "@"; "false" accepts every row).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const url = process.argv[2] ?? process.env.DATABASE_URL;
  if (!url) {
    console.error('usage: npx tsx test/support/heroku-connect-fixture.ts DATABASE_URL [REJECT_SQL]');
    process.exit(2);
  }
  const refused = process.argv[3] ?? `coalesce(email__c, '') NOT LIKE '%@%'`;
  const sim = await new HerokuConnectSimulator(url, { reject: { account: refused } }).connect();
  sim.start();
  console.log(`simulating Heroku Connect on ${new URL(url).pathname.slice(1)}: PENDING rows become SYNCED; accounts where ${refused}: FAILED`);
  process.on('SIGINT', () => void sim.stop().then(() => process.exit(0)));
  process.on('SIGTERM', () => void sim.stop().then(() => process.exit(0)));
}
