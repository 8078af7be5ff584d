import type { Pool } from '../../src/db/index.js';

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
      if (a.portal_user_id__c !== null && userIds.has(a.portal_user_id__c))
        problems.push(`account ${a.id} is flagged deleted but user ${a.portal_user_id__c} exists`);
    } else if (a.portal_user_id__c === null) problems.push(`account ${a.id} is not linked`);
    else if (!userIds.has(a.portal_user_id__c)) problems.push(`account ${a.id} points at missing user ${a.portal_user_id__c}`);
  }
  return problems;
}

/** The same, for portal.orders <-> salesforce.order__c: each order carried once, equal, pointing at its user. */
export async function orderProblems(pool: Pool): Promise<string[]> {
  const problems: string[] = [];
  const orders = (await pool.query('SELECT id, user_id, amount::text, status FROM portal.orders')).rows;
  const targets = (
    await pool.query('SELECT portal_order_id__c, account__r__portal_user_id__c, amount__c::text AS amount, status__c FROM salesforce.order__c')
  ).rows;
  const byId = new Map(targets.map((t) => [t.portal_order_id__c, t]));
  for (const o of orders) {
    const t = byId.get(String(o.id));
    if (!t) problems.push(`order ${o.id}: not in salesforce.order__c`);
    else if (t.amount !== o.amount || t.status__c !== o.status || t.account__r__portal_user_id__c !== String(o.user_id))
      problems.push(
        `order ${o.id} (${o.amount}, ${o.status}, user ${o.user_id}) != order__c (${t.amount}, ${t.status__c}, ${t.account__r__portal_user_id__c})`,
      );
  }
  const orderIds = new Set(orders.map((o) => String(o.id)));
  for (const t of targets) if (!orderIds.has(t.portal_order_id__c)) problems.push(`order__c ${t.portal_order_id__c}: no portal order`);
  return problems;
}
