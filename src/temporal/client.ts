import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { retryUntilDone } from '../reconnect-backoff.js';
import type { FerryConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { SEARCH_ATTRIBUTES } from '../contract/index.js';
import { accessProblem, connectionOptions } from './connection.js';

const { IndexedValueType } = proto.temporal.api.enums.v1;

/** A Temporal client; waits for the server with backoff when it is not up yet. */
export async function connectClient(config: FerryConfig, logger: Logger, signal?: AbortSignal): Promise<Client> {
  const connection = await retryUntilDone(
    'connect to Temporal',
    () => Connection.connect({ ...connectionOptions(config), connectTimeout: '5s' }),
    {
      signal,
      giveUp: (err) => accessProblem(err, config),
      onError: (err, attempt, delayMs) =>
        logger.warn({ err: (err as Error).message, address: config.temporal.address, attempt, delayMs }, 'Temporal unreachable, retrying'),
    },
  );
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** Registers Ferry's search attributes in the namespace where they are missing; returns those added. */
export async function registerSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const operator = client.connection.operatorService;
  const existing = await operator.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
  const missing = SEARCH_ATTRIBUTES.filter((k) => !known.has(k.name));
  if (missing.length === 0) return [];
  await operator.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((k) => [k.name, k.type === 'INT' ? IndexedValueType.INDEXED_VALUE_TYPE_INT : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return missing.map((k) => k.name);
}

// Kept in web-ui.ts, which loads without the Temporal client (fast `ferry status`).
export { defaultUiUrl, webUiLink } from '../operate/web-ui.js';
