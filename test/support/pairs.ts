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

/**
 * The log history of the rows a problem names (users/accounts, orders/order__c, departments),
 * both directions, for a failing convergence test to print: a divergence is
 * only explained by the order in which its logs were carried.
 */
export async function problemHistory(pool: Pool, problems: string[]): Promise<string> {
  const users = new Set<string>();
  const orders = new Set<string>();
  const departments = new Set<string>();
  for (const p of problems) {
    const d = /^department (\d+)/.exec(p);
    if (d) departments.add(d[1]!);
    const u = /^user (\d+)/.exec(p) ?? / user (\d+)$/.exec(p);
    if (u) users.add(u[1]!);
    const o = /^order (\d+)/.exec(p) ?? /^order__c (\d+)/.exec(p);
    if (o) orders.add(o[1]!);
  }
  const { rows } = await pool.query(
    `SELECT l.id, l.mapping, l.op, l.row_key, l.status, l.error, l.superseded_by, l.workflow_id, l.txid,
            to_char(l.created_at, 'HH24:MI:SS.US') AS created, to_char(l.synced_at, 'HH24:MI:SS.US') AS done, l.old_row, l.new_row
       FROM ferry.database_trigger_log l
      WHERE (l.mapping = 'users_to_accounts' AND l.row_key = ANY($1))
         OR (l.mapping = 'accounts_to_users' AND l.row_key IN (SELECT id::text FROM salesforce.account WHERE portal_user_id__c = ANY($1)))
         OR (l.mapping = 'orders_to_orders' AND l.row_key = ANY($2))
         OR (l.mapping = 'orders_from_salesforce' AND l.row_key IN (SELECT id::text FROM salesforce.order__c WHERE portal_order_id__c = ANY($2)))
         OR (l.mapping = 'departments' AND l.row_key = ANY($3))
      ORDER BY l.id`,
    [[...users].slice(0, 5), [...orders].slice(0, 5), [...departments].slice(0, 5)],
  );
  return rows.map((r) => JSON.stringify(r)).join('\n');
}
