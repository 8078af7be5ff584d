// The config's public surface: what config files, the CLI and the rest of
// Ferry import. Its parts live in src/config/: the schema (and each default),
// loading (file, environment), and the checks and resolving across mappings.
import { findReverse } from './config/resolve.js';
import type { FerryConfig, Mapping } from './config/schema.js';

export { ConfigError } from './config/errors.js';
export { configModuleOf, instanceOf, loadConfig, parseConfig, resolveConfigPath } from './config/load.js';
export { requiredParentLoops } from './config/resolve.js';
export {
  defineConfig,
  type ConflictPolicy,
  type FerryConfig,
  type FerryConfigInput,
  type Mapping,
  type Row,
  type Transform,
  type TransformContext,
} from './config/schema.js';

// Looked up on every sync: built once per loaded config (its mappings array).
const byName = new WeakMap<readonly Mapping[], Map<string, Mapping>>();
const reverses = new WeakMap<readonly Mapping[], Map<Mapping, Mapping | undefined>>();

export function mappingByName(config: FerryConfig, name: string): Mapping | undefined {
  let index = byName.get(config.mappings);
  if (!index) byName.set(config.mappings, (index = new Map(config.mappings.map((m) => [m.name, m]))));
  return index.get(name);
}

/** The mapping that carries rows the opposite way (target -> source), if any. */
export function reverseOf(mappings: readonly Mapping[], mapping: Mapping): Mapping | undefined {
  let index = reverses.get(mappings);
  if (!index) reverses.set(mappings, (index = new Map()));
  if (!index.has(mapping)) index.set(mapping, findReverse(mappings, mapping));
  return index.get(mapping);
}
