// The Temporal Web UI finds a stuck sync by Ferry's search attributes: a real
// browser (Debian's chromium, driven by playwright-core) against the run's
// dev-server UI.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import type { FerryConfig } from '../src/config.js';
import { syncLogWorkflowId } from '../src/contract/index.js';
import type { FerryProcess } from '../src/runtime.js';
import { createTestDatabase, startFerry, testConfig, type TestDatabase } from './support/harness.js';
import { failWithScreenshot, launchChromium, runsChromium, screenshot } from './support/browser.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;

let db: TestDatabase;
let config: FerryConfig;
let ferry: FerryProcess | undefined;
let browser: Browser | undefined;

describe.skipIf(!runsChromium())('Temporal Web UI', () => {
  beforeAll(async () => {
    db = await createTestDatabase(FILE);
    config = testConfig(FILE, db, {
      mappings: exampleSubset('users_to_accounts', 'orders_to_orders'),
      missingParent: { initialInterval: '1m', maximumAttempts: 100 },
    });
    ferry = await startFerry(config);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await ferry?.stop();
    await db?.drop();
  });

  it('shows a sync waiting for its parent under the query FerryState = "waiting_parent"', async () => {
    // A user that syncs, so the list has a workflow the query must leave out.
    const user = (await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('u@example.com', 'Una') RETURNING id`)).rows[0];
    const synced = await waitFor(
      'user synced',
      async () =>
        (
          await db.pool.query(
            `SELECT id FROM ferry.database_trigger_log WHERE mapping = 'users_to_accounts' AND row_key = $1 AND status = 'synced'`,
            [String(user.id)],
          )
        ).rows[0],
    );
    await waitFor(
      'the synced workflow is visible as synced',
      async () => {
        for await (const w of ferry!.client!.workflow.list({
          query: `WorkflowId = "${syncLogWorkflowId(config.instance, synced.id)}" AND FerryState = "synced"`,
        }))
          return w;
        return undefined;
      },
      { timeoutMs: 45_000, intervalMs: 250 },
    ); // visibility lags more when the machine is busy
    // An order of a user that never arrives: its workflow waits on a durable timer.
    await db.pool.query(`INSERT INTO portal.orders (user_id, amount, status) VALUES (31337, 3, 'new')`);
    const { id } = await waitFor(
      'order waiting for its parent',
      async () =>
        (await db.pool.query(`SELECT id FROM ferry.database_trigger_log WHERE mapping = 'orders_to_orders' AND waiting_key IS NOT NULL`)).rows[0],
    );
    const workflowId = syncLogWorkflowId(config.instance, id);
    const query = 'FerryState = "waiting_parent"';
    const url = `${inject('temporalUiUrl')}/namespaces/${config.temporal.namespace}/workflows?query=${encodeURIComponent(query)}`;

    const page = await browser!.newPage({ viewport: { width: 1400, height: 800 } });
    try {
      // Visibility lags the workflow by a moment: load the page again until the row shows.
      await waitFor(
        `${workflowId} listed in the Web UI`,
        async () => {
          await page.goto(url, { waitUntil: 'domcontentloaded' });
          await page.getByText(workflowId, { exact: true }).first().waitFor({ timeout: 10_000 });
          return true;
        },
        // The UI and its visibility store lag most while the rest of the suite runs beside it.
        { timeoutMs: 120_000, intervalMs: 250 },
      ).catch(failWithScreenshot(page, 'web-ui-not-listed'));
      await screenshot(page, 'web-ui-waiting-parent');
      // The filter really applied: the synced user's workflow is not listed.
      expect(await page.getByText(syncLogWorkflowId(config.instance, synced.id), { exact: true }).count()).toBe(0);
      expect(await page.getByText(workflowId, { exact: true }).count()).toBeGreaterThanOrEqual(1);
    } finally {
      await page.close();
    }
  }, 240_000);
});
