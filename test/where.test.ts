import { describe, expect, it } from 'vitest';
import { whereProblem } from '../src/where.js';

const COLUMNS = ['id', 'email', 'created_at', 'j', 'amount'];

describe('backfill --where', () => {
  it.each([
    "created_at > now() - interval '1 day'",
    'id IN (1, 2, 3) AND email IS NOT NULL',
    "lower(email) LIKE '%@example.com' OR (j ->> 'kind') = 'a'",
    'amount BETWEEN 1 AND 10 AND id::text <> $$x$$',
    'created_at >= CURRENT_DATE',
    "id = ANY ('{1,2}'::int[]) IS NOT TRUE",
  ])('accepts %s', async (where) => {
    expect(await whereProblem(where, COLUMNS)).toBeUndefined();
  });

  it.each([
    ['true) OR (true', /closes what the expression did not open/],
    ['true); DELETE FROM salesforce.account; SELECT (1', /closes what|";" is not allowed/],
    ['id = 1; DELETE FROM salesforce.account', /";" is not allowed/],
    ['id = 1 -- and the rest', /comments/],
    ['id IN (SELECT id FROM salesforce.account)', /SubLink is not allowed/],
    ['EXISTS (SELECT 1)', /SubLink is not allowed/],
    ['pg_sleep(10) IS NULL', /function pg_sleep is not allowed/],
    ["dblink_exec('x') IS NULL", /function dblink_exec is not allowed/],
    ["'ferry.database_trigger_log'::regclass IS NOT NULL", /cast to regclass is not allowed/],
    ['secret = 1', /no column "secret"/],
    ['s.id = 1', /by its name alone/],
    ['count(*) > 1', /function count|only a plain call/],
    ['id = 1 UNION SELECT 1', /does not parse|only one expression/],
    ['id = 1 OR public.evil(id)', /function public.evil is not allowed/],
    ['id OPERATOR(public.===) 1', /operator === is not allowed/],
  ])('refuses %s', async (where, problem) => {
    expect(await whereProblem(where, COLUMNS)).toMatch(problem);
  });
});
