/**
 * The first cycle in a directed graph (node -> the nodes it points at), as the
 * path that closes it ("a", "b", "a"), or undefined when there is none.
 */
export function findCycle(edges: Map<string, string[]>): string[] | undefined {
  const done = new Set<string>();
  const onPath: string[] = [];
  const visit = (node: string): string[] | undefined => {
    const at = onPath.indexOf(node);
    if (at >= 0) return [...onPath.slice(at), node];
    if (done.has(node)) return undefined;
    onPath.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    onPath.pop();
    done.add(node);
    return undefined;
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * Each mapping's place in parent order: 0 for mappings without parents, else
 * one more than its highest parent. A cycle (a mapping that is its own
 * ancestor) is cut where it closes.
 */
export function dependencyRanks(mappings: readonly MappingNode[]): Map<string, number> {
  const parentsOf = parentNames(mappings);
  const ranks = new Map<string, number>();
  const onPath = new Set<string>();
  const rank = (name: string): number => {
    const known = ranks.get(name);
    if (known !== undefined) return known;
    if (onPath.has(name)) return -1;
    onPath.add(name);
    const r = 1 + Math.max(-1, ...(parentsOf.get(name) ?? []).map(rank));
    onPath.delete(name);
    ranks.set(name, r);
    return r;
  };
  for (const m of mappings) rank(m.name);
  return ranks;
}

/** Each mapping's ancestors through `parents`, transitively. */
export function ancestorsOf(mappings: readonly MappingNode[]): Map<string, string[]> {
  const parentsOf = parentNames(mappings);
  const result = new Map<string, string[]>();
  for (const m of mappings) {
    const seen = new Set<string>();
    const todo = [...(parentsOf.get(m.name) ?? [])];
    while (todo.length) {
      const next = todo.pop()!;
      if (seen.has(next) || next === m.name) continue;
      seen.add(next);
      todo.push(...(parentsOf.get(next) ?? []));
    }
    result.set(m.name, [...seen]);
  }
  return result;
}

/** A mapping as the graph of parents sees it. */
export interface MappingNode {
  name: string;
  parents: readonly { mapping: string }[];
}

function parentNames(mappings: readonly MappingNode[]): Map<string, string[]> {
  return new Map(mappings.map((m) => [m.name, m.parents.map((p) => p.mapping)]));
}
