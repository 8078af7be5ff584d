// Table names of any spelling. The config, the log and the SQL builders share
// one canonical text per table: "schema.table" when both parts are plain
// lower-case identifiers, otherwise each odd part double-quoted as in SQL
// ('"My Schema"."Order Lines"'). Postgres' to_regclass() reads that text as is.

export interface TableName {
  schema: string;
  name: string;
}

/** Postgres truncates longer identifiers (NAMEDATALEN - 1). */
export const MAX_IDENTIFIER_BYTES = 63;

const PLAIN = /^[a-z_][a-z0-9_]*$/;

/** One part of the canonical text: bare when plain, else quoted with "" for ". */
export function quotePart(part: string): string {
  return PLAIN.test(part) ? part : `"${part.replace(/"/g, '""')}"`;
}

export function formatTable(table: TableName): string {
  return `${quotePart(table.schema)}.${quotePart(table.name)}`;
}

/**
 * Reads "schema.table": each part is either quoted ("My ""odd"" name") or
 * bare; a bare part is taken literally (case kept, as everywhere in Ferry's
 * config) and may hold anything but "." and '"'. Returns undefined when the
 * text is not exactly two parts.
 */
export function parseTable(text: string): TableName | undefined {
  const parts: string[] = [];
  let i = 0;
  while (i <= text.length) {
    let part = '';
    if (text[i] === '"') {
      for (i++; ; i++) {
        if (i >= text.length) return undefined; // unterminated quote
        if (text[i] === '"') {
          if (text[i + 1] !== '"') break;
          i++;
        }
        part += text[i];
      }
      i++; // closing quote
    } else {
      const end = text.slice(i).search(/[."]/);
      part = end < 0 ? text.slice(i) : text.slice(i, i + end);
      i += part.length;
      if (part !== part.trim()) return undefined; // " users" is a typo more often than a name
    }
    if (part === '') return undefined;
    parts.push(part);
    if (i === text.length) break;
    if (text[i] !== '.') return undefined;
    i++;
  }
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : undefined;
}

/** Why Postgres (or Ferry) cannot use this identifier, or undefined when it can. */
export function identifierProblem(part: string): string | undefined {
  if (part.length === 0) return 'is empty';
  if (part.includes('\0')) return 'contains a NUL character';
  if (Buffer.byteLength(part) > MAX_IDENTIFIER_BYTES)
    return `is longer than Postgres' ${MAX_IDENTIFIER_BYTES}-byte identifier limit (Postgres would truncate it)`;
  return undefined;
}
