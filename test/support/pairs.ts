import type { Pool } from '../../src/db.js';

/**
 * Every user <-> account pair of the example, checked both ways: each portal
 * user has exactly one live account with the same name and email, each live
 * account is linked to an existing user with the same values, and a deleted
 * user's account is flagged deleted. Returns the problems found (none = converged).
 */
export async function pairProblems(pool: Pool): Promise<string[]> {
  const problems: string[] = [];
  const users = (await pool.query('SELECT id, full_name, email FROM portal.users')).rows;
  const accounts = (await pool.query('SELECT id, portal_user_id__c, name, email__c, isdeleted FROM salesforce.account')).rows;
  const byUser = new Map<string, any[]>();
  for (const a of accounts) if (a.portal_user_id__c !== null) byUser.set(a.portal_user_id__c, [...(byUser.get(a.portal_user_id__c) ?? []), a]);
  const userIds = new Set(users.map((u) => String(u.id)));
  for (const u of users) {
    const linked = byUser.get(String(u.id)) ?? [];
    if (linked.length !== 1) problems.push(`user ${u.id}: ${linked.length} accounts`);
    else if (linked[0].isdeleted) problems.push(`user ${u.id}: account ${linked[0].id} is flagged deleted`);
    else if (linked[0].name !== u.full_name || linked[0].email__c !== u.email)
      problems.push(`user ${u.id} (${u.full_name}, ${u.email}) != account ${linked[0].id} (${linked[0].name}, ${linked[0].email__c})`);
  }
  for (const a of accounts) {
    if (a.isdeleted) {
      if (a.portal_user_id__c !== null && userIds.has(a.portal_user_id__c)) problems.push(`account ${a.id} is flagged deleted but user ${a.portal_user_id__c} exists`);
    } else if (a.portal_user_id__c === null) problems.push(`account ${a.id} is not linked`);
    else if (!userIds.has(a.portal_user_id__c)) problems.push(`account ${a.id} points at missing user ${a.portal_user_id__c}`);
  }
  return problems;
}
