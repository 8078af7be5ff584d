// `npm run example:first-row`: with `npm start` running in another terminal,
// writes one user into portal.users and waits for Ferry to carry it to
// salesforce.account; prints the account, the log row and the workflow id.
// No psql needed. The database is the one `npm start` uses: DATABASE_URL,
// else the example's when it answers, else the embedded one in .ferry/.
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { portAnswers } from '../src/net.js';
import config from './ferry.config.js';

async function databaseUrl(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const url = new URL(config.database.url);
  if (await portAnswers(url.hostname, Number(url.port || 5432))) return url.toString();
  if (!existsSync('.ferry/pg.port')) throw new Error('no database answers: start Ferry first with `npm start` in another terminal');
  url.hostname = '127.0.0.1';
  url.port = readFileSync('.ferry/pg.port', 'utf8').trim();
  return url.toString();
}

const client = new pg.Client({ connectionString: await databaseUrl() });
await client.connect();
try {
  const email = `ada.${Date.now()}@example.com`;
  const { rows } = await client.query<{ id: number }>(`INSERT INTO portal.users (email, full_name) VALUES ($1, 'Ada Lovelace') RETURNING id`, [
    email,
  ]);
  const id = rows[0]!.id;
  console.log(`inserted portal.users id ${id} (${email}); waiting for Ferry to carry it...`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const log = await client.query(
      `SELECT id, mapping, op, status, error, workflow_id FROM ferry.database_trigger_log
        WHERE mapping = 'users_to_accounts' AND row_key = $1 ORDER BY id DESC LIMIT 1`,
      [String(id)],
    );
    const account = await client.query(`SELECT id, name, email__c, portal_user_id__c FROM salesforce.account WHERE portal_user_id__c = $1`, [
      String(id),
    ]);
    if (log.rows[0]?.status === 'synced' && account.rows[0]) {
      console.log('salesforce.account:', account.rows[0]);
      console.log('ferry.database_trigger_log:', log.rows[0]);
      break;
    }
    if (Date.now() > deadline) {
      console.error('not synced after 30 s; the log row:', log.rows[0] ?? 'none (is `npm start` running on this database?)');
      process.exitCode = 1;
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
} finally {
  await client.end();
}
