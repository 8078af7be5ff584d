// Ferry against a secured Temporal: server TLS with a private CA, mTLS and an
// API key, each through a real HTTP/2 TLS front (ALPN h2) before the run's
// dev server, configured the way the Temporal CLI is (TEMPORAL_* variables).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { exampleSubset } from '../example/mappings.js';
import { parseConfig, type FerryConfig } from '../src/config.js';
import type { FerryProcess } from '../src/runtime.js';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { registerSearchAttributes } from '../src/temporal/client.js';
import { jsonLines, killHard, runCli, spawnCli, writeCliConfig } from './support/cli.js';
import { createTestDatabase, startFerry, type TestDatabase } from './support/harness.js';
import { namespaceForFile } from './support/names.js';
import { makeCerts, startTlsProxy, type Proxy, type TestCerts } from './support/tls-proxy.js';
import { waitFor } from './support/wait.js';

const FILE = import.meta.url;
const NAMESPACE = namespaceForFile(FILE);
const API_KEY = 'ferry-test-key';

let db: TestDatabase;
let certs: TestCerts;
const proxies: Record<'tls' | 'mtls' | 'apiKey' | 'cloudLike', Proxy> = {} as never;

beforeAll(async () => {
  certs = makeCerts();
  db = await createTestDatabase(FILE);
  const upstream = inject('temporalAddress');
  proxies.tls = await startTlsProxy({ upstream, certs });
  proxies.mtls = await startTlsProxy({ upstream, certs, requireClientCert: true });
  proxies.apiKey = await startTlsProxy({ upstream, certs, apiKey: API_KEY });
  proxies.cloudLike = await startTlsProxy({ upstream, certs, apiKey: API_KEY, denied: ['AddSearchAttributes'] });
});

afterAll(async () => {
  for (const p of Object.values(proxies)) await p?.close();
  await db?.drop();
});

const settings = () => ({
  database: { url: db.url, poolSize: 4 },
  temporal: { namespace: NAMESPACE, taskQueue: 'ferry-access' },
  listener: { sweepInterval: '1s' },
  metrics: false,
});

function configWith(env: Record<string, string>): FerryConfig {
  return parseConfig({ ...settings(), mappings: exampleSubset('users_to_accounts') }, env);
}

/** Starts Ferry with this environment, inserts a user, and waits for its account. */
async function syncsARow(env: Record<string, string>, name: string): Promise<void> {
  let ferry: FerryProcess | undefined;
  try {
    ferry = await startFerry(configWith(env));
    const { rows } = await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ($1, $2) RETURNING id`, [`${name}@example.com`, name]);
    const account = await waitFor(`account of ${name}`, async () => {
      const r = await db.pool.query('SELECT name FROM salesforce.account WHERE portal_user_id__c = $1', [String(rows[0].id)]);
      return r.rows[0] as { name: string } | undefined;
    });
    expect(account.name).toBe(name);
  } finally {
    await ferry?.stop();
  }
}

/** `ferry start` with this environment: must exit non-zero soon, with a message rather than a stack trace. */
async function startRefused(env: Record<string, string>): Promise<string> {
  const config = writeCliConfig('access.config.ts', settings(), "exampleSubset('users_to_accounts')");
  const started = Date.now();
  const { code, stderr } = await runCli(['start', '--config', config], env);
  expect(code).toBe(1);
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(stderr).not.toMatch(/^\s+at /m);
  return stderr;
}

describe('Temporal behind TLS', () => {
  it('server TLS with a private CA: a row syncs', async () => {
    await syncsARow({ TEMPORAL_ADDRESS: proxies.tls.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca }, 'tls');
  });

  it('mTLS: a row syncs with the client certificate', async () => {
    const env = {
      TEMPORAL_ADDRESS: proxies.mtls.address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
      TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
    };
    await syncsARow(env, 'mtls');
  });

  it('mTLS without the client certificate: `ferry start` exits 1 naming the TLS failure', async () => {
    const stderr = await startRefused({ TEMPORAL_ADDRESS: proxies.mtls.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca });
    expect(stderr).toMatch(/refused the connection \(TLS as configured\)/);
  });

  it('a certificate file that is missing or not a certificate stops loading, naming the key', () => {
    expect(() => configWith({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem' })).toThrow(
      /temporal\.tls\.serverCACert: cannot read \/nonexistent\/ca\.pem: ENOENT/,
    );
    expect(() => configWith({ TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientKey, TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey })).toThrow(
      /temporal\.tls\.clientCert: .*client\.key is not a PEM certificate/,
    );
    expect(() => configWith({ TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert })).toThrow(/clientCert and clientKey go together/);
  });
});

describe('Temporal behind an API key', () => {
  it('a row syncs with TEMPORAL_API_KEY', async () => {
    await syncsARow({ TEMPORAL_ADDRESS: proxies.apiKey.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca, TEMPORAL_API_KEY: API_KEY }, 'apikey');
  });

  it('a wrong key: `ferry start` exits 1 saying the key was refused', async () => {
    const stderr = await startRefused({
      TEMPORAL_ADDRESS: proxies.apiKey.address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
      TEMPORAL_API_KEY: 'wrong',
    });
    expect(stderr).toMatch(/refused the connection \(TLS and API key as configured\).*invalid API key/);
  });
});

describe('a server that refuses to add search attributes (as Temporal Cloud does)', () => {
  it('migrate names the missing ones and prints the commands; start waits until they exist, then carries', async () => {
    // A namespace without Ferry's attributes (the run's namespaces have them).
    const namespace = `ferry-sa-refused-${inject('runId')}`;
    const direct = await Connection.connect({ address: inject('temporalAddress') });
    try {
      await direct.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
      await waitFor('namespace usable', async () => (await direct.operatorService.listSearchAttributes({ namespace })) !== undefined, {
        timeoutMs: 30_000,
        intervalMs: 500,
      });
      const env = {
        TEMPORAL_ADDRESS: proxies.cloudLike.address,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
        TEMPORAL_API_KEY: API_KEY,
        TEMPORAL_NAMESPACE: namespace,
      };
      const config = writeCliConfig(
        'refused.config.ts',
        { ...settings(), temporal: { taskQueue: 'ferry-refused' } },
        "exampleSubset('users_to_accounts')",
      );
      const migrated = await runCli(['migrate', '--config', config], env);
      expect(migrated.code, migrated.stdout).toBe(1);
      expect(migrated.stderr).toMatch(/lacks Ferry's search attributes FerryMapping, FerryTable, FerryState, FerryLogId, FerryInstance/);
      expect(migrated.stderr).toContain(`temporal operator search-attribute create --namespace ${namespace} --name FerryMapping --type Keyword`);
      expect(migrated.stderr).toContain(`tcld namespace search-attributes add --namespace ${namespace} --search-attribute "FerryMapping=Keyword"`);
      expect(migrated.stderr).toContain('--search-attribute "FerryLogId=Int"');

      const start = spawnCli(['start', '--config', config, '--metrics-port', '0'], env);
      try {
        await waitFor('start waiting for the search attributes', () =>
          jsonLines(start.stdout()).some((l) => /waiting for Ferry's search attributes/.test(l.msg)),
        );
        // What the operator does with the printed command.
        await registerSearchAttributes(new Client({ connection: direct, namespace }), namespace);
        const { rows } = await db.pool.query(`INSERT INTO portal.users (email, full_name) VALUES ('sa@example.com', 'Searchable') RETURNING id`);
        await waitFor(
          'account carried once the attributes exist',
          async () => (await db.pool.query('SELECT 1 FROM salesforce.account WHERE portal_user_id__c = $1', [String(rows[0].id)])).rowCount! > 0,
          { timeoutMs: 60_000 },
        );
      } finally {
        await killHard(start);
      }
    } finally {
      await direct.close();
    }
  });
});
