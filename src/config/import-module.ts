// Importing a config module: what `ferry` does once and each transform thread
// again (activities/transform-thread.ts), so it imports nothing heavy.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * A config module's default export (or the module itself), as the CLI and a
 * transform thread both import it. A compiled Ferry first requires a `.ts`
 * config through tsx's CommonJS hook, which runs in the calling thread; tsx's
 * ES module hook (module.register) starts a loader thread of its own, about
 * 20 MiB for the process and again for each transform thread
 * (docs/performance.md, transforms in threads). A config that cannot be
 * required (top-level await) is imported through that hook instead.
 */
export async function importConfigModule(url: string): Promise<unknown> {
  if (!needsTypeScriptLoader(url)) return defaultExport(await import(url));
  const required = await requireTypeScript(url);
  if (required !== undefined) return defaultExport(required);
  await registerTypeScriptLoader();
  return defaultExport(await import(url));
}

/** A .ts compiled to CommonJS (no "type": "module" near it) arrives wrapped once more. */
function defaultExport(mod: { default?: { __esModule?: boolean; default?: unknown } }): unknown {
  return mod.default?.__esModule ? mod.default.default : (mod.default ?? mod);
}

/**
 * Compiled Ferry (dist/) runs on plain Node: a `.ts` config needs tsx's
 * loader, registered only then (it costs a few hundred ms). From the sources
 * (tsx, vitest) a loader is already there.
 */
function needsTypeScriptLoader(file: string): boolean {
  return /\.[cm]?ts$/.test(file) && import.meta.url.endsWith('.js');
}

async function registerTypeScriptLoader(): Promise<void> {
  // Both hooks, as the tsx command has: a .ts outside a "type": "module" package is CommonJS to Node.
  const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  esm.register();
  cjs.register();
}

/** undefined when the module cannot be required (top-level await, say): the caller imports it instead. */
async function requireTypeScript(url: string): Promise<{ default?: { __esModule?: boolean; default?: unknown } } | undefined> {
  const cjs = await import('tsx/cjs/api');
  const unregister = cjs.register();
  try {
    return createRequire(import.meta.url)(url.startsWith('file:') ? fileURLToPath(url) : url);
  } catch {
    unregister(); // the import below registers both hooks afresh
    return undefined;
  }
}
