/** A config that cannot be used; `message` names the offending key. The CLI exits 2 on it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
