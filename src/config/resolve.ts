// Checks across mappings, and what parsing resolves once: each pair's
// conflict policies. Readers never default a setting again.
import { channelFor } from '../contract/names.js'; // not the index: it loads the Temporal SDK, which status and prune never need
import { findCycle } from '../graph.js';
import { MAX_IDENTIFIER_BYTES, parseTable } from '../table-name.js';
import { ConfigError } from './errors.js';
import type { Mapping, ParsedMapping } from './schema.js';

type MappingShape = Pick<ParsedMapping, 'name' | 'source' | 'target' | 'parents'>;

/** Checks across mappings that the schema cannot state; returns them with their conflict policies resolved. */
export function checkMappings(mappings: ParsedMapping[]): Mapping[] {
  const byName = new Map<string, number>();
  mappings.forEach((m, i) => {
    if (byName.has(m.name)) throw new ConfigError(`config: mappings[${i}].name: "${m.name}" is used twice`);
    byName.set(m.name, i);
  });
  mappings.forEach((m, i) => {
    // The trigger notifies channel ferry_<schema>; Postgres refuses a longer channel name.
    const schema = parseTable(m.source.table)!.schema;
    if (Buffer.byteLength(channelFor(schema)) > MAX_IDENTIFIER_BYTES)
      throw new ConfigError(
        `config: mappings[${i}].source.table: schema name ${JSON.stringify(schema)} is too long for its NOTIFY channel ` +
          `"ferry_<schema>" (${MAX_IDENTIFIER_BYTES} bytes at most)`,
      );
  });
  mappings.forEach((m, i) =>
    m.parents.forEach((p, j) => {
      if (!byName.has(p.mapping)) throw new ConfigError(`config: mappings[${i}].parents[${j}].mapping: no mapping is named "${p.mapping}"`);
    }),
  );
  // Mapping-level cycles (a hierarchy, a loop of references) are fine: what
  // must never loop is rows, and the sync finds such a loop when it happens.
  return resolveConflictPolicies(mappings);
}

/**
 * Loops of mappings joined only by required parents, other than a mapping
 * that is its own parent (a tree, normally). Two rows that point at each
 * other along such a loop can never sync; each warning names the references
 * one of which should be `optional: true`.
 */
export function requiredParentLoops(mappings: readonly MappingShape[]): string[] {
  const edges = new Map(mappings.map((m) => [m.name, m.parents.filter((p) => !p.optional && p.mapping !== m.name).map((p) => p.mapping)]));
  const warnings: string[] = [];
  for (let cycle = findCycle(edges); cycle && warnings.length < 10; cycle = findCycle(edges)) {
    const refs = cycle.slice(0, -1).map((name, i) => {
      const m = mappings.find((x) => x.name === name)!;
      return m.parents
        .filter((p) => !p.optional && p.mapping === cycle![i + 1])
        .map((p) => `${name}.${p.column}`)
        .join(', ');
    });
    warnings.push(
      `mappings ${cycle.join(' -> ')} form a loop of required parents: rows that point at each other through ` +
        `${refs.join(' and ')} cannot sync; mark one of these references optional: true`,
    );
    // Drop the closing edge and look for another loop.
    const last = edges.get(cycle.at(-2)!)!;
    last.splice(last.indexOf(cycle.at(-1)!), 1);
  }
  return warnings;
}

/** The mapping that carries rows the opposite way (target -> source), if any. */
export function findReverse<M extends MappingShape>(mappings: readonly M[], mapping: MappingShape): M | undefined {
  return mappings.find((m) => m.source.table === mapping.target.table && m.target.table === mapping.source.table);
}

const MIRROR = { latest: 'latest', 'source-wins': 'target-wins', 'target-wins': 'source-wins' } as const;

/**
 * Gives each mapping of a two-way pair its conflict policy: one side may set
 * it, the other mirrors it; both set means they must agree. Pairs serialize on
 * the row they share, so the reverse mapping must write the source's key.
 */
function resolveConflictPolicies(mappings: ParsedMapping[]): Mapping[] {
  return mappings.map((m, i) => {
    const reverse = findReverse(mappings, m);
    if (!reverse) return { ...m, conflict: m.conflict ?? 'latest' };
    if (reverse.target.key !== m.source.key && m.target.key !== reverse.source.key)
      throw new ConfigError(
        `config: mappings[${i}]: ${m.name} and ${reverse.name} sync in opposite directions, so one must write the other's ` +
          `source key (e.g. ${reverse.name}.target.key = "${m.source.key}"): pairs serialize on the row they share`,
      );
    const mirrored = reverse.conflict ? MIRROR[reverse.conflict] : undefined;
    if (m.conflict && mirrored && m.conflict !== mirrored)
      throw new ConfigError(
        `config: mappings[${i}].conflict: "${m.conflict}" contradicts ${reverse.name}'s "${reverse.conflict}" (expected "${mirrored}")`,
      );
    return { ...m, conflict: m.conflict ?? mirrored ?? 'latest' };
  });
}
