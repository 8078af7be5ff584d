// Importing a config module: what `ferry` does once and each transform thread
// again (activities/transform-thread.ts), so it imports nothing heavy.

/** A config module's default export (or the module itself), as the CLI and a transform thread both import it. */
export async function importConfigModule(url: string): Promise<unknown> {
  await typeScriptLoaderFor(url);
  const mod = await import(url);
  // A .ts compiled to CommonJS (no "type": "module" near it) arrives wrapped once more.
  return mod.default?.__esModule ? mod.default.default : (mod.default ?? mod);
}

/**
 * Compiled Ferry (dist/) runs on plain Node: a `.ts` config needs tsx's
 * loader, registered only then (it costs a few hundred ms). From the sources
 * (tsx, vitest) a loader is already there.
 */
async function typeScriptLoaderFor(file: string): Promise<void> {
  if (!/\.[cm]?ts$/.test(file) || !import.meta.url.endsWith('.js')) return;
  // Both hooks, as the tsx command has: a .ts outside a "type": "module" package is CommonJS to Node.
  const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  esm.register();
  cjs.register();
}
