// Ferry's own package.json, found at run time from this file (src/ under tsx,
// dist/src/ once built), so the version and the package name are written once.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  name: string;
  version: string;
}

let cached: PackageInfo | undefined;

/** The nearest package.json above this file that has a name (dist/package.json has none). */
export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as Partial<PackageInfo>;
      if (pkg.name && pkg.version) return (cached = { name: pkg.name, version: pkg.version });
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json of Ferry not found');
    dir = up;
  }
}
