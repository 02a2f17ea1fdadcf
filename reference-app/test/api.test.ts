// Every endpoint through inject(), against a real PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresHandle } from './support/postgres.ts';
import { migrate, SEEDED_ITEMS } from '../src/migrate.ts';
import { startAppFixture, type AppFixture } from './app-fixture.ts';

let db: PostgresHandle;
let fx: AppFixture;

beforeAll(async () => {
  db = await startPostgres();
  fx = await startAppFixture(db.url);
});

afterAll(async () => {
  await fx?.close();
  await db?.stop();
});

const post = (body: unknown, key?: string) =>
  fx.app.inject({ method: 'POST', url: '/api/orders', payload: body as object, headers: key ? { 'idempotency-key': key } : {} });

describe('probes', () => {
  it('/health answers ok without the database', async () => {
    const res = await fx.app.inject('/health');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok' });
  });

  it('/ready is 200 with a primary', async () => {
    const res = await fx.app.inject('/ready');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ready: true, database: 'primary', draining: false });
  });
});

describe('items', () => {
  it('reads a seeded item', async () => {
    const res = await fx.app.inject('/api/items/42');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: 42, name: 'item-42', priceCents: (42 * 37) % 10000 });
  });

  it('seeds exactly SEEDED_ITEMS items, and migrating again changes nothing', async () => {
    await migrate(fx.pool);
    const { rows } = await fx.pool.query<{ n: string }>('SELECT count(*) AS n FROM items');
    expect(Number(rows[0]?.n)).toBe(SEEDED_ITEMS);
  });

  it('404s an absent item, with identity headers', async () => {
    const res = await fx.app.inject(`/api/items/${SEEDED_ITEMS + 1}`);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: 'not_found' });
    expect(res.headers['x-app-version']).toBe('9.9.9-test');
    expect(res.headers['x-instance-id']).toBe('test-instance');
  });

  it('400s a non-numeric id', async () => {
    const res = await fx.app.inject('/api/items/abc');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'bad_request' });
  });
});

describe('orders', () => {
  it('creates an order (201) with the committed id, readable afterwards', async () => {
    const res = await post({ itemId: 7, quantity: 3 });
    expect(res.statusCode).toBe(201);
    const order = res.json<{ id: string; itemId: number; quantity: number; createdAt: string }>();
    expect(order).toMatchObject({ itemId: 7, quantity: 3 });
    expect(order.id).toMatch(/^\d+$/);
    expect(Number.isNaN(Date.parse(order.createdAt))).toBe(false);
    const { rows } = await fx.pool.query('SELECT item_id, quantity FROM orders WHERE id = $1', [order.id]);
    expect(rows).toEqual([{ item_id: 7, quantity: 3 }]);
    const read = await fx.app.inject(`/api/orders/${order.id}`);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(order);
  });

  it('replays a repeated Idempotency-Key: same id, 200, one row', async () => {
    const first = await post({ itemId: 8, quantity: 1 }, 'retry-key-1');
    const second = await post({ itemId: 8, quantity: 1 }, 'retry-key-1');
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual(first.json());
    const { rows } = await fx.pool.query("SELECT count(*)::int AS n FROM orders WHERE idempotency_key = 'retry-key-1'");
    expect(rows[0]).toEqual({ n: 1 });
  });

  it('concurrent requests with one key create one row and all return its id', async () => {
    const responses = await Promise.all(Array.from({ length: 12 }, () => post({ itemId: 9, quantity: 2 }, 'concurrent-key')));
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(11);
    expect(new Set(responses.map((r) => r.json<{ id: string }>().id)).size).toBe(1);
    const { rows } = await fx.pool.query("SELECT count(*)::int AS n FROM orders WHERE idempotency_key = 'concurrent-key'");
    expect(rows[0]).toEqual({ n: 1 });
  });

  it('409s a key reused for a different order', async () => {
    const first = await post({ itemId: 10, quantity: 1 }, 'reused-key');
    const other = await post({ itemId: 11, quantity: 1 }, 'reused-key');
    expect(first.statusCode).toBe(201);
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ error: 'idempotency_key_reused', orderId: first.json<{ id: string }>().id });
  });

  it('422s an unknown item and writes nothing', async () => {
    const before = await fx.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders');
    const res = await post({ itemId: SEEDED_ITEMS + 5, quantity: 1 }, 'unknown-item-key');
    expect(res.statusCode).toBe(422);
    const after = await fx.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders');
    expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
  });

  it.each([
    ['missing quantity', { itemId: 1 }],
    ['zero quantity', { itemId: 1, quantity: 0 }],
    ['string item', { itemId: 'x', quantity: 1 }],
    ['unknown field', { itemId: 1, quantity: 1, price: 5 }],
  ])('400s a bad body (%s)', async (_name, body) => {
    const res = await post(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'bad_request' });
    expect(res.headers['x-instance-id']).toBe('test-instance');
  });

  it('404s an absent order and 400s a malformed id', async () => {
    expect((await fx.app.inject('/api/orders/999999999')).statusCode).toBe(404);
    expect((await fx.app.inject('/api/orders/abc')).statusCode).toBe(400);
  });
});

describe('cpu', () => {
  it('burns for about the asked time', async () => {
    const res = await fx.app.inject('/api/cpu?ms=30');
    expect(res.statusCode).toBe(200);
    expect(res.json<{ burnedMs: number }>().burnedMs).toBeGreaterThanOrEqual(30);
  });

  it.each(['0', '501', 'abc', ''])('400s ms=%s (outside 1..CPU_MAX_MS)', async (ms) => {
    const res = await fx.app.inject(`/api/cpu?ms=${ms}`);
    expect(res.statusCode).toBe(400);
  });
});

describe('unknown routes', () => {
  it('404 with identity headers', async () => {
    const res = await fx.app.inject('/nope');
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-app-version']).toBe('9.9.9-test');
    expect(res.headers['x-instance-id']).toBe('test-instance');
  });
});
