import type { Mapping } from '../config.js';

/** Mappings ordered parents first (the config's order otherwise), for `--all`. */
export function parentsFirst(mappings: Mapping[]): Mapping[] {
  const byName = new Map(mappings.map((m) => [m.name, m]));
  const out: Mapping[] = [];
  const seen = new Set<string>();
  const visit = (m: Mapping) => {
    if (seen.has(m.name)) return;
    seen.add(m.name); // the config check rejects cycles
    for (const p of m.parents) visit(byName.get(p.mapping)!);
    out.push(m);
  };
  mappings.forEach(visit);
  return out;
}
