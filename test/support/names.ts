import path from 'node:path';

/** "sync.int.test.ts" -> "sync_int": the per-file namespace and database suffix. */
export function fileSlug(file: string): string {
  return path.basename(file).replace(/\.test\.ts$/, '').replace(/[^a-z0-9]+/gi, '_').toLowerCase();
}

export function namespaceForFile(file: string): string {
  return `ferry-${fileSlug(file)}`;
}
