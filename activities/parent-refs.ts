// Pure helpers about the rows a row references: which parents a row names,
// the order that carries parents before children, and the message for rows
// that reference each other in a loop. Shared by the single-row and batch paths.
import type { FerryConfig, Mapping, Row } from '../src/config.js';
import { mappingByName } from '../src/config.js';

export interface ParentRef {
  /** The parent's mapping. */
  parent: Mapping;
  /** The child's column that holds the parent's source key. */
  column: string;
  /** The parent's source key (also its target key), as text. */
  key: string;
  optional: boolean;
}

/** The parents a source row names (a null or absent column names none). */
export function parentRefsOf(config: FerryConfig, mapping: Mapping, row: Row): ParentRef[] {
  const refs: ParentRef[] = [];
  for (const ref of mapping.parents) {
    const value = row[ref.column];
    if (value === null || value === undefined) continue;
    refs.push({ parent: mappingByName(config, ref.mapping)!, column: ref.column, key: String(value), optional: ref.optional });
  }
  return refs;
}

/** A mapping's source row by its key, as one string: how rows carried together name each other (orderParentsFirst). */
export function sourceRowName(mapping: string, key: string): string {
  return `${mapping}|${key}`;
}

/**
 * Orders items carried together so each comes after the items it references
 * (parents first: a deep tree in one batch needs no waiting). Otherwise
 * stable; items in a loop each come once, in no promised order. Iterative,
 * so a chain of any length is fine.
 */
export function orderParentsFirst<T>(items: readonly T[], idOf: (t: T) => string, parentIdsOf: (t: T) => readonly string[]): T[] {
  const byId = new Map<string, number[]>();
  items.forEach((t, i) => byId.set(idOf(t), [...(byId.get(idOf(t)) ?? []), i]));
  const seen = new Uint8Array(items.length); // 0 new, 1 on the path, 2 placed
  const out: T[] = [];
  for (let root = 0; root < items.length; root++) {
    if (seen[root]) continue;
    // Each frame: an item and the parents of it still to visit.
    const stack: { i: number; next: number[] }[] = [{ i: root, next: parentIndexes(root) }];
    seen[root] = 1;
    while (stack.length) {
      const top = stack.at(-1)!;
      const p = top.next.shift();
      if (p === undefined) {
        stack.pop();
        seen[top.i] = 2;
        out.push(items[top.i]!);
      } else if (!seen[p]) {
        seen[p] = 1;
        stack.push({ i: p, next: parentIndexes(p) });
      }
    }
  }
  return out;

  function parentIndexes(i: number): number[] {
    return parentIdsOf(items[i]!).flatMap((id) => byId.get(id) ?? []);
  }
}

/**
 * Items carried together, in levels: each item's level is one more than its
 * deepest parent's among them (roots 0), so carrying level after level
 * carries every parent before its children. Each level keeps the items'
 * order. Items in a loop get some level each, in no promised order.
 */
export function depthLevels<T>(items: readonly T[], idOf: (t: T) => string, parentIdsOf: (t: T) => readonly string[]): T[][] {
  const depth = new Map<string, number>();
  for (const item of orderParentsFirst(items, idOf, parentIdsOf)) {
    const id = idOf(item);
    if (depth.has(id)) continue;
    // A parent not placed yet is one of a loop: it does not count.
    depth.set(id, Math.max(0, ...parentIdsOf(item).map((p) => (p !== id && depth.has(p) ? depth.get(p)! + 1 : 0))));
  }
  const levels: T[][] = [];
  for (const item of items) (levels[depth.get(idOf(item))!] ??= []).push(item);
  return levels.filter((l) => l !== undefined);
}

/**
 * orderParentsFirst for logs carried together (a batch): a log's parents are
 * those its source row names; `rowOf` gives that row (the batch reads the
 * current rows; the log keeps no row after the change). No row: no parents.
 */
export function orderLogsParentsFirst<T extends { mapping: string; row_key: string }>(
  config: FerryConfig,
  logs: readonly T[],
  rowOf: (log: T) => Row | null | undefined,
): T[] {
  return orderParentsFirst(
    logs,
    (l) => sourceRowName(l.mapping, l.row_key),
    (l) => {
      const mapping = mappingByName(config, l.mapping);
      const row = rowOf(l);
      return mapping && row ? parentRefsOf(config, mapping, row).map((r) => sourceRowName(r.parent.name, r.key)) : [];
    },
  );
}

export interface LoopRow {
  mapping: string;
  key: string;
  logId?: number | null;
}

/**
 * What a user reads when rows reference each other through required parents:
 * the loop from this row back to it, and the references to make optional.
 * e.g. `accounts key 7 -> accounts key 9 -> accounts key 7: rows reference each other; make one reference optional (accounts.parent_id)`.
 * Without `keys` (for a workflow's history): the rows by their logs, `accounts log 12 -> accounts -> accounts log 12: ...`.
 */
export function loopMessage(config: FerryConfig, loop: LoopRow[], keys = true): string {
  const refs = new Set<string>();
  for (let i = 0; i + 1 < loop.length; i++) {
    const m = mappingByName(config, loop[i]!.mapping);
    for (const p of m?.parents ?? []) if (!p.optional && p.mapping === loop[i + 1]!.mapping) refs.add(`${m!.name}.${p.column}`);
  }
  const name = (r: LoopRow) => (keys ? ` key ${r.key}` : r.logId ? ` log ${r.logId}` : '');
  const path = loop.map((r) => `${r.mapping}${name(r)}`).join(' -> ');
  return `${path}: rows reference each other; make one reference optional (${[...refs].join(' or ')})`;
}
