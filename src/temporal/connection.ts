// How client and worker reach Temporal: the config's resolved `temporal`
// block (profile, file, environment) turned into connection options by
// @temporalio/envconfig, so TLS, mTLS and API keys work as in the Temporal CLI.
import { toClientOptions } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { FerryConfig } from '../config.js';

/** Address, TLS, API key: what Connection.connect and NativeConnection.connect both take. */
export function connectionOptions(config: FerryConfig): Pick<NativeConnectionOptions, 'address' | 'tls' | 'apiKey'> {
  const { address, apiKey, tls } = config.temporal;
  const { connectionOptions: o } = toClientOptions({ address, apiKey, tls });
  return { address: o.address, tls: o.tls, apiKey: o.apiKey };
}

/**
 * A failure that waiting does not cure: the server refused our TLS or our
 * credentials. Start-up stops with it instead of retrying forever.
 */
export class TemporalAccessError extends Error {
  override name = 'TemporalAccessError';
}

const ACCESS_PATTERNS = [
  /tls|ssl|certificate|handshake|alert|x509|invalid peer|unknown ca/i,
  /unauthenticated|permission ?denied|unauthori[sz]ed|api key|\b401\b|\b403\b|\b16 UNAUTH|\b7 PERMISSION/i,
];

/** Whether a connect error says our TLS or credentials are wrong (rather than that Temporal is down). */
export function accessProblem(err: unknown, config: FerryConfig): TemporalAccessError | undefined {
  const message = (err as Error)?.message ?? String(err);
  if (!ACCESS_PATTERNS.some((p) => p.test(message))) return undefined;
  const how = [config.temporal.tls && !config.temporal.tls.disabled ? 'TLS' : '', config.temporal.apiKey ? 'API key' : '']
    .filter(Boolean)
    .join(' and ');
  return new TemporalAccessError(
    `Temporal at ${config.temporal.address} refused the connection${how ? ` (${how} as configured)` : ''}: ${firstLine(message)}. ` +
      "Check TEMPORAL_TLS_* / TEMPORAL_API_KEY or the config's temporal.tls and temporal.apiKey (`ferry doctor` checks them).",
  );
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
