import type { FerryConfigInput } from '../../src/config.js';
import type { Pool } from '../../src/db/index.js';

/** A table that references itself (departments.parent_id), carried one way. */
export const DEPARTMENTS_SQL = `
  CREATE TABLE portal.departments (id serial PRIMARY KEY, parent_id integer, name text);
  CREATE TABLE salesforce.department__c (
    portal_department_id__c text PRIMARY KEY,
    parent__c text,
    parent_seen__c boolean,
    name text
  );
`;

export const departmentsMapping: FerryConfigInput['mappings'][number] = {
  name: 'departments',
  source: { table: 'portal.departments', key: 'id' },
  target: { table: 'salesforce.department__c', key: 'portal_department_id__c' },
  parents: [{ mapping: 'departments', column: 'parent_id' }],
  transform: (row, ctx) => ({
    portal_department_id__c: String(row.id),
    parent__c: row.parent_id === null ? null : String(row.parent_id),
    // Written after the parent: the parent's target row was there to see.
    parent_seen__c: row.parent_id === null || ctx.parents.parent_id !== undefined,
    name: row.name,
  }),
};

/** Each department carried, equal, after its parent. Returns the problems found (none = converged). */
export async function departmentProblems(pool: Pool): Promise<string[]> {
  const problems: string[] = [];
  const sources = (await pool.query('SELECT id, parent_id, name FROM portal.departments')).rows;
  const targets = new Map((await pool.query('SELECT * FROM salesforce.department__c')).rows.map((t) => [t.portal_department_id__c as string, t]));
  for (const d of sources) {
    const t = targets.get(String(d.id));
    const parent = d.parent_id === null ? null : String(d.parent_id);
    if (!t) problems.push(`department ${d.id}: not in salesforce.department__c`);
    else if (t.parent__c !== parent || t.name !== d.name || !t.parent_seen__c)
      problems.push(`department ${d.id} (${parent}, ${d.name}) != department__c (${t.parent__c}, ${t.name}, parent seen: ${t.parent_seen__c})`);
  }
  return problems;
}
