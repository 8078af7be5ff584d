// Where the `temporal` block comes from, as the Temporal CLI reads it:
// a temporal.toml profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE), then the
// config file, then the TEMPORAL_* variables, each later one winning.
import { loadClientConfigProfile, type ClientConfigProfile } from '@temporalio/envconfig';
import { ConfigError } from './errors.js';

type Block = Record<string, any>;

function asBlock(profile: ClientConfigProfile): Block {
  const out: Block = {};
  if (profile.address) out.address = profile.address;
  if (profile.namespace) out.namespace = profile.namespace;
  if (profile.apiKey) out.apiKey = profile.apiKey;
  if (profile.tls) out.tls = profile.tls;
  return out;
}

/** A `tls` value of any form as an object, so layers merge key by key. */
function tlsObject(tls: unknown): Block | undefined {
  if (tls === undefined) return undefined;
  if (tls === true) return {};
  if (tls === false) return { disabled: true };
  return tls as Block;
}

/** The config's `temporal` block with the profile under it and the environment over it. */
export function temporalBlock(fromFile: Block, env: NodeJS.ProcessEnv): Block {
  const vars = env as Record<string, string>;
  let profile: Block;
  try {
    profile = asBlock(loadClientConfigProfile({ disableEnv: true, overrideEnvVars: vars }));
  } catch (err) {
    throw new ConfigError(`config: temporal: the temporal.toml profile: ${(err as Error).message}`);
  }
  const fromEnv = asBlock(loadClientConfigProfile({ disableFile: true, overrideEnvVars: vars }));
  const layers = [profile, fromFile, fromEnv];
  const merged: Block = Object.assign({}, ...layers.map(({ tls: _tls, ...rest }) => rest));
  const tls = layers.map((l) => tlsObject(l.tls)).filter((t) => t !== undefined);
  if (tls.length > 0) merged.tls = Object.assign({}, ...tls);
  return merged;
}
