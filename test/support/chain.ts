import type { FerryConfigInput } from '../../src/config.js';
import type { Pool } from '../../src/db/index.js';
import { exampleMappings } from '../../example/mappings.js';

/** A third level under the example's orders: order lines, whose parent is the order. */
export const ORDER_LINES_SQL = `
  CREATE TABLE portal.order_lines (id serial PRIMARY KEY, order_id integer, sku text);
  CREATE TABLE salesforce.order_line__c (
    portal_line_id__c text PRIMARY KEY,
    order__r__portal_order_id__c text,
    order_account__c text,
    sku__c text
  );
`;

export const chainMappings: FerryConfigInput['mappings'] = [
  ...exampleMappings,
  {
    name: 'lines_to_lines',
    source: { table: 'portal.order_lines', key: 'id' },
    target: { table: 'salesforce.order_line__c', key: 'portal_line_id__c' },
    parents: [{ mapping: 'orders_to_orders', column: 'order_id' }],
    // The parent's target row arrives in ctx: copy what the child needs from it.
    transform: (row, ctx) => ({
      portal_line_id__c: String(row.id),
      order__r__portal_order_id__c: String(row.order_id),
      order_account__c: ctx.parents.order_id?.account__r__portal_user_id__c ?? null,
      sku__c: row.sku,
    }),
  },
];

/** An order and then its user, in one transaction (the child's log comes first); returns the order id. */
export async function insertOrderThenUser(pool: Pool, userId: number): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query(`INSERT INTO portal.orders (user_id, amount, status) VALUES ($1, 12, 'new') RETURNING id`, [userId]);
    await client.query(`INSERT INTO portal.users (id, full_name) VALUES ($1, 'Parent in the same transaction')`, [userId]);
    await client.query('COMMIT');
    return rows[0].id;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}
