// JSON from Postgres (jsonb columns, to_jsonb(row)) without silent rounding:
// a number a JS number cannot hold exactly (a bigint above 2^53, a numeric
// with 30 digits) arrives as a string of its digits, the way node-postgres
// hands over int8 and numeric columns. Written back, Postgres reads the string
// as the column's type, so the value round-trips unchanged.

// A JSON string (skipped whole, so digits inside it are never touched) or a number.
const TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
// Only a run of 16 digits (or digits and a point) can hold a number that loses precision.
const MAYBE_LONG = /\d[\d.]{15}/;

/** Whether Number(token) is exactly the value the token writes. */
export function exactAsNumber(token: string): boolean {
  if (!/[.eE]/.test(token)) return Number.isSafeInteger(Number(token));
  const mantissa = token
    .replace(/^-/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '');
  const significant = mantissa.replace(/^0+/, '').replace(/0+$/, '');
  return significant.length <= 15; // a double holds any 15-digit decimal exactly enough to round-trip
}

export function parseExactJson(text: string): unknown {
  if (!MAYBE_LONG.test(text)) return JSON.parse(text);
  return JSON.parse(text.replace(TOKEN, (token) => (token[0] === '"' || exactAsNumber(token) ? token : `"${token}"`)));
}

/** int8 as a number while it is exact (log ids, counts), else as its digits. */
export function parseInt8(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}
