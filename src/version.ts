import { createRequire } from 'node:module';

/** This Ferry's version, from its package.json (two levels up from src/ and from dist/src/). */
function readVersion(): string {
  const require = createRequire(import.meta.url);
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(candidate) as { name?: string; version?: string };
      if (pkg.version && pkg.name !== undefined) return pkg.version;
    } catch {
      // not here: dist/ has a package.json of its own without a version
    }
  }
  return 'unknown';
}

export const FERRY_VERSION = readVersion();
