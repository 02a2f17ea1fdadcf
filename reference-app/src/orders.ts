// Orders in PostgreSQL. An Idempotency-Key is a unique column: INSERT ... ON CONFLICT DO NOTHING makes a
// concurrent duplicate wait for the first insert to commit and then insert nothing, after which (READ
// COMMITTED: each statement takes a new snapshot) the SELECT finds the committed row. One key, one row.
import type { Pool } from './db.ts';
import { inTransaction, readQuery } from './db.ts';
import type { RequestTrace } from './request-trace.ts';

export interface Order {
  /** bigserial, as a string so ids past 2^53 survive JSON. */
  id: string;
  itemId: number;
  quantity: number;
  createdAt: string;
}

export type CreateOrderResult =
  | { kind: 'created'; order: Order }
  | { kind: 'replayed'; order: Order }
  | { kind: 'key_conflict'; order: Order }
  | { kind: 'unknown_item' };

interface OrderRow {
  id: string;
  item_id: number;
  quantity: number;
  created_at: Date;
}

const COLUMNS = 'id, item_id, quantity, created_at';
const FOREIGN_KEY_VIOLATION = '23503';

function toOrder(row: OrderRow): Order {
  return { id: String(row.id), itemId: row.item_id, quantity: row.quantity, createdAt: row.created_at.toISOString() };
}

export async function createOrder(pool: Pool, input: { itemId: number; quantity: number; idempotencyKey?: string }, trace?: RequestTrace): Promise<CreateOrderResult> {
  try {
    return await inTransaction(pool, async (client) => {
      const key = input.idempotencyKey ?? null;
      const inserted = await client.query<OrderRow>(
        `INSERT INTO orders (item_id, quantity, idempotency_key) VALUES ($1, $2, $3)
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${COLUMNS}`,
        [input.itemId, input.quantity, key],
      );
      const row = inserted.rows[0];
      if (row) return { kind: 'created', order: toOrder(row) } as const;
      // Only a keyed insert can conflict (NULL keys never collide).
      const existing = await client.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE idempotency_key = $1`, [key]);
      const found = existing.rows[0];
      if (!found) throw new Error('idempotency conflict without a committed row');
      const order = toOrder(found);
      const sameRequest = order.itemId === input.itemId && order.quantity === input.quantity;
      return { kind: sameRequest ? 'replayed' : 'key_conflict', order } as const;
    }, trace);
  } catch (err) {
    if ((err as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) return { kind: 'unknown_item' };
    throw err;
  }
}

export async function findOrder(pool: Pool, id: string, trace?: RequestTrace): Promise<Order | undefined> {
  const result = await readQuery<OrderRow>(pool, `SELECT ${COLUMNS} FROM orders WHERE id = $1`, [id], trace);
  const row = result.rows[0];
  return row ? toOrder(row) : undefined;
}

export interface Item {
  id: number;
  name: string;
  priceCents: number;
}

export async function findItem(pool: Pool, id: number, trace?: RequestTrace): Promise<Item | undefined> {
  const result = await readQuery<{ id: number; name: string; price_cents: number }>(
    pool, 'SELECT id, name, price_cents FROM items WHERE id = $1', [id], trace);
  const row = result.rows[0];
  return row ? { id: row.id, name: row.name, priceCents: row.price_cents } : undefined;
}
