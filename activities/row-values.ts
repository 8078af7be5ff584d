// What a transform may return as a column's value: what Ferry can write
// without changing it on the way (JSON would write NaN, Infinity and
// undefined as NULL, and throw on a circular object at write time).

/** Why `value` cannot be written as it is, and where inside it; undefined when it can. */
export function valueProblem(value: unknown, path = '', seen: object[] = []): { what: string; path: string } | undefined {
  if (value === undefined) return { what: 'undefined (return null for NULL)', path };
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { what: String(value), path };
  if (typeof value === 'function' || typeof value === 'symbol') return { what: `a ${typeof value}`, path };
  if (value === null || typeof value !== 'object') return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? { what: 'an invalid Date', path } : undefined;
  if (value instanceof Uint8Array) return undefined;
  if (seen.includes(value)) return { what: 'a circular reference', path };
  const inner = [...seen, value];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = valueProblem(value[i], `${path}[${i}]`, inner);
      if (problem) return problem;
    }
    return undefined;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
  for (const [key, v] of Object.entries(value)) {
    // Inside an object, undefined drops the key, as JSON does: not a loss.
    if (v === undefined) continue;
    const problem = valueProblem(v, `${path}.${key}`, inner);
    if (problem) return problem;
  }
  return undefined;
}

/** A row's bytea values, which arrive from another thread as Uint8Array (structured clone drops Buffer's class), as Buffers again, in place. */
export function asBuffers<T extends Record<string, unknown>>(row: T): T {
  for (const [k, v] of Object.entries(row))
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) (row as Record<string, unknown>)[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return row;
}
