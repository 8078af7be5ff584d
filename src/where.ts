// `backfill --where`: one boolean expression over the source table's own
// columns, read by Postgres' own parser (libpg-query), checked against an
// allow-list of node kinds, operators, functions and types, so the text can
// be put into Ferry's statements as it is: no subquery, no second statement,
// no function that reads or writes elsewhere.
import { loadModule, parseSync, scanSync } from 'libpg-query';
import type { Queryable } from './db/index.js';

const FUNCTIONS = new Set([
  'now',
  'lower',
  'upper',
  'length',
  'char_length',
  'coalesce',
  'nullif',
  'abs',
  'round',
  'floor',
  'ceil',
  'date_trunc',
  'date_part',
  'extract',
  'trim',
  'btrim',
  'ltrim',
  'rtrim',
  'substring',
  'substr',
  'left',
  'right',
  'to_timestamp',
  'to_date',
  'make_interval',
  'greatest',
  'least',
  'jsonb_typeof',
  'jsonb_array_length',
  'array_length',
]);
const OPERATORS = new Set([
  '=',
  '<>',
  '!=',
  '<',
  '>',
  '<=',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '||',
  '~~',
  '!~~',
  '~~*',
  '!~~*',
  '~',
  '!~',
  '~*',
  '!~*',
  '->',
  '->>',
  '#>',
  '#>>',
  '@>',
  '<@',
  '?',
  '?|',
  '?&',
  '&&',
]);
const TYPES = new Set([
  'text',
  'varchar',
  'bpchar',
  'char',
  'int2',
  'int4',
  'int8',
  'integer',
  'int',
  'bigint',
  'smallint',
  'numeric',
  'float4',
  'float8',
  'bool',
  'boolean',
  'date',
  'time',
  'timetz',
  'timestamp',
  'timestamptz',
  'interval',
  'uuid',
  'json',
  'jsonb',
]);
const A_EXPR_KINDS = new Set([
  'AEXPR_OP',
  'AEXPR_OP_ANY',
  'AEXPR_OP_ALL',
  'AEXPR_IN',
  'AEXPR_LIKE',
  'AEXPR_ILIKE',
  'AEXPR_SIMILAR',
  'AEXPR_BETWEEN',
  'AEXPR_NOT_BETWEEN',
  'AEXPR_DISTINCT',
  'AEXPR_NOT_DISTINCT',
  'AEXPR_NULLIF',
]);
// Nodes that only hold others, checked in turn.
const PLAIN = new Set(['BoolExpr', 'NullTest', 'BooleanTest', 'List', 'A_ArrayExpr', 'CoalesceExpr', 'MinMaxExpr', 'SQLValueFunction']);

type Node = Record<string, unknown>;
const names = (list: unknown): string[] => ((list as Node[] | undefined) ?? []).map((n) => String((n.String as Node | undefined)?.sval ?? '?'));

let loaded: Promise<void> | undefined;

/**
 * Why `where` is not one allowed boolean expression over `columns`, or
 * undefined when it is. Reads the text as Postgres does.
 */
export async function whereProblem(where: string, columns: readonly string[]): Promise<string | undefined> {
  await (loaded ??= loadModule());
  let depth = 0;
  for (const token of scanSync(where).tokens) {
    if (token.tokenName === 'SQL_COMMENT' || token.tokenName === 'C_COMMENT') return 'comments are not allowed';
    if (token.tokenName === 'ASCII_59') return 'only one expression: ";" is not allowed';
    depth += token.tokenName === 'ASCII_40' ? 1 : token.tokenName === 'ASCII_41' ? -1 : 0;
    if (depth < 0) return 'a ")" closes what the expression did not open';
  }
  if (depth !== 0) return 'a "(" is not closed';
  let select: Node;
  try {
    const stmts = parseSync(`SELECT FROM ferry_where WHERE (${where})`).stmts ?? [];
    if (stmts.length !== 1) return 'only one expression';
    select = (stmts[0]!.stmt as Node).SelectStmt as Node;
  } catch (err) {
    return `does not parse: ${(err as Error).message}`;
  }
  const extra = Object.keys(select ?? {}).filter((k) => !['fromClause', 'whereClause', 'op', 'limitOption'].includes(k));
  if (!select || select.op !== 'SETOP_NONE' || extra.length) return 'only one expression';
  return nodeProblem(select.whereClause, new Set(columns));
}

function nodeProblem(value: unknown, columns: Set<string>): string | undefined {
  if (Array.isArray(value)) {
    for (const v of value) {
      const p = nodeProblem(v, columns);
      if (p) return p;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const [[kind, body]] = Object.entries(value as Node) as [[string, Node]];
  switch (kind) {
    case 'A_Const':
      return undefined;
    case 'ColumnRef': {
      const fields = body.fields as Node[];
      if (fields.length !== 1 || !fields[0]!.String) return 'a column is named by its name alone (no table, no *)';
      const name = names(fields)[0]!;
      return columns.has(name) ? undefined : `no column "${name}" in the source table`;
    }
    case 'A_Expr': {
      if (!A_EXPR_KINDS.has(String(body.kind))) return `${String(body.kind)} is not allowed`;
      const op = names(body.name).at(-1)!;
      const between = String(body.kind).includes('BETWEEN'); // named BETWEEN, SYMMETRIC ...: no operator of its own
      if (!between && (names(body.name).length > 1 || !OPERATORS.has(op))) return `operator ${op} is not allowed`;
      return nodeProblem([body.lexpr, body.rexpr], columns);
    }
    case 'FuncCall': {
      const fn = names(body.funcname);
      const bare = fn.length === 2 && fn[0] === 'pg_catalog' ? fn[1]! : fn.length === 1 ? fn[0]! : '';
      if (!FUNCTIONS.has(bare)) return `function ${fn.join('.')} is not allowed`;
      if (body.agg_star || body.agg_order || body.agg_filter || body.over || body.agg_distinct) return `function ${bare}: only a plain call`;
      return nodeProblem(body.args, columns);
    }
    case 'TypeCast': {
      const type = names((body.typeName as Node).names);
      const bare = type.length === 2 && type[0] === 'pg_catalog' ? type[1]! : type.length === 1 ? type[0]! : '';
      if (!TYPES.has(bare)) return `a cast to ${type.join('.')} is not allowed`;
      return nodeProblem(body.arg, columns);
    }
    default:
      if (!PLAIN.has(kind)) return `${kind} is not allowed (one boolean expression over the source table's columns)`;
      return nodeProblem(Object.values(body), columns);
  }
}

/** whereProblem against a table's columns as they are now. */
export async function whereProblemOn(db: Queryable, table: string, where: string): Promise<string | undefined> {
  const { rows } = await db.query<{ attname: string }>(
    `SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = pg_catalog.to_regclass($1) AND attnum > 0 AND NOT attisdropped`,
    [table],
  );
  return whereProblem(
    where,
    rows.map((r) => r.attname),
  );
}
