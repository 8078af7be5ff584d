import path from 'node:path';

/** "sync.int.test.ts" -> "sync_int": the per-file namespace and database suffix. */
export function fileSlug(file: string): string {
  return path
    .basename(file)
    .replace(/\.test\.ts$/, '')
    .replace(/[^a-z0-9]+/gi, '_')
    .toLowerCase();
}

/** A test file's namespace; a scenario run on the batch lane gets its own, so workflow ids never meet. */
export function namespaceForFile(file: string, lane: 'single' | 'batch' = 'single'): string {
  return `ferry-${fileSlug(file)}${lane === 'batch' ? '-batch' : ''}`;
}
