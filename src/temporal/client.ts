import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { jitteredDelay, pause, retryUntilDone } from '../reconnect-backoff.js';
import type { FerryConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { SEARCH_ATTRIBUTES } from '../contract/index.js';
import { dataConverterOf } from './codec.js';
import { accessProblem, connectionOptions } from './connection.js';

const { IndexedValueType } = proto.temporal.api.enums.v1;

/** A Temporal client; waits for the server with backoff when it is not up yet. */
export async function connectClient(config: FerryConfig, logger: Logger, signal?: AbortSignal): Promise<Client> {
  const connection = await retryUntilDone('connect to Temporal', () => Connection.connect({ ...connectionOptions(config), connectTimeout: '5s' }), {
    signal,
    giveUp: (err) => accessProblem(err, config),
    onError: (err, attempt, delayMs) =>
      logger.warn({ err: (err as Error).message, address: config.temporal.address, attempt, delayMs }, 'Temporal unreachable, retrying'),
  });
  return ferryClient(connection, config);
}

/** A client on a connection: the config's namespace, and its payload codec when there is one. */
export function ferryClient(connection: Client['connection'], config: FerryConfig): Client {
  return new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverterOf(config) });
}

/** One attempt, no waiting (migrate, doctor); a refused TLS handshake or credential as TemporalAccessError. */
export async function connectOnce(config: FerryConfig): Promise<Client> {
  try {
    const connection = await Connection.connect({ ...connectionOptions(config), connectTimeout: '5s' });
    return ferryClient(connection, config);
  } catch (err) {
    throw accessProblem(err, config) ?? err;
  }
}

/** Ferry's search attributes the namespace lacks (listing them is allowed where adding is not, as on Temporal Cloud). */
export async function missingSearchAttributes(client: Client, namespace: string): Promise<typeof SEARCH_ATTRIBUTES> {
  const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
  return SEARCH_ATTRIBUTES.filter((k) => !known.has(k.name));
}

/** The commands that add them: the Temporal CLI for a self-hosted server, tcld for Temporal Cloud. */
export function searchAttributeCommands(namespace: string, missing: typeof SEARCH_ATTRIBUTES): string[] {
  const type = (k: (typeof SEARCH_ATTRIBUTES)[number]) => (k.type === 'INT' ? 'Int' : 'Keyword');
  return [
    `temporal operator search-attribute create --namespace ${namespace} ` + missing.map((k) => `--name ${k.name} --type ${type(k)}`).join(' '),
    `tcld namespace search-attributes add --namespace ${namespace} ` + missing.map((k) => `--search-attribute "${k.name}=${type(k)}"`).join(' '),
  ];
}

/** The server would not add search attributes (Temporal Cloud's namespaces, a restricted role). */
export class SearchAttributesMissing extends Error {
  override name = 'SearchAttributesMissing';
  constructor(
    readonly namespace: string,
    readonly missing: string[],
    reason: string,
  ) {
    const commands = searchAttributeCommands(
      namespace,
      SEARCH_ATTRIBUTES.filter((k) => missing.includes(k.name)),
    );
    super(
      `namespace ${namespace} lacks Ferry's search attributes ${missing.join(', ')} and the server would not add them (${reason}). ` +
        `Add them with one of:\n  ${commands.join('\n  ')}`,
    );
  }
}

/** Registers Ferry's search attributes in the namespace where they are missing; returns those added. */
export async function registerSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const missing = await missingSearchAttributes(client, namespace);
  if (missing.length === 0) return [];
  try {
    await client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((k) => [k.name, k.type === 'INT' ? IndexedValueType.INDEXED_VALUE_TYPE_INT : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  } catch (err) {
    throw new SearchAttributesMissing(
      namespace,
      missing.map((k) => k.name),
      (err as Error).message.split('\n')[0]!,
    );
  }
  return missing.map((k) => k.name);
}

// Kept in web-ui.ts, which loads without the Temporal client (fast `ferry status`).
export { defaultUiUrl, webUiLink } from '../operate/web-ui.js';

/**
 * Waits until the namespace has Ferry's search attributes: workflows cannot
 * start without them. Says which are missing and how to add them, then looks
 * again with backoff. Where listing them is refused too, starts unchecked.
 */
export async function waitForSearchAttributes(client: Client, namespace: string, logger: Logger, signal?: AbortSignal): Promise<void> {
  for (let attempt = 1; !signal?.aborted; attempt++) {
    let missing: typeof SEARCH_ATTRIBUTES;
    try {
      missing = await missingSearchAttributes(client, namespace);
    } catch (err) {
      logger.warn({ namespace, err: (err as Error).message.split('\n')[0] }, 'cannot list search attributes; starting without checking them');
      return;
    }
    if (missing.length === 0) return;
    const commands = searchAttributeCommands(namespace, missing);
    logger.error(
      { namespace, missing: missing.map((k) => k.name), commands },
      `waiting for Ferry's search attributes in namespace ${namespace} (run \`ferry migrate\`, or where the server refuses: ${commands[0]})`,
    );
    await pause(jitteredDelay(attempt, 2000, 30_000), signal);
  }
}
