// The database goes away (crash: postmaster and backends SIGKILLed) and comes back on the same address,
// as a failover behind a stable service address looks to the app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresHandle } from './support/postgres.ts';
import { createPool, inTransaction, isConnectionError, readQuery } from '../src/db.ts';
import { startAppFixture, type AppFixture } from './app-fixture.ts';

let db: PostgresHandle;
let fx: AppFixture;

beforeAll(async () => {
  db = await startPostgres();
  fx = await startAppFixture(db.url, { probeIntervalMs: 200 });
});

afterAll(async () => {
  await fx?.close();
  await db?.stop();
});

async function waitForReady(expected: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let status = 0;
  while (Date.now() < deadline) {
    status = (await fx.app.inject('/ready')).statusCode;
    if (status === expected) return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return status;
}

describe('database down and back', () => {
  it('readiness 503 while down, reads 503, writes 503 not retried; all back once the database is', async () => {
    // Warm the pool so it holds connections that the crash will break.
    for (let i = 0; i < 5; i++) expect((await fx.app.inject('/api/items/1')).statusCode).toBe(200);
    expect((await fx.app.inject('/ready')).statusCode).toBe(200);

    await db.kill();

    expect(await waitForReady(503)).toBe(503);
    const ready = (await fx.app.inject('/ready')).json<{ database: string }>();
    expect(ready.database).toBe('down');
    // Liveness never depends on the database.
    expect((await fx.app.inject('/health')).statusCode).toBe(200);

    const read = await fx.app.inject('/api/items/1');
    expect(read.statusCode).toBe(503);
    expect(read.json()).toMatchObject({ error: 'database_unavailable' });
    expect(read.headers['x-instance-id']).toBe('test-instance');

    const write = await fx.app.inject({ method: 'POST', url: '/api/orders', payload: { itemId: 1, quantity: 1 }, headers: { 'idempotency-key': 'during-outage' } });
    expect(write.statusCode).toBe(503);
    expect(write.json()).toMatchObject({ error: 'write_not_confirmed' });

    await db.restart();

    expect(await waitForReady(200)).toBe(200);
    // Broken connections were dropped: every read now succeeds on fresh ones.
    for (let i = 0; i < 15; i++) expect((await fx.app.inject(`/api/items/${i + 1}`)).statusCode).toBe(200);
    // The failed write really was not applied, and retrying it with its key is now safe.
    const { rows } = await fx.pool.query("SELECT count(*)::int AS n FROM orders WHERE idempotency_key = 'during-outage'");
    expect(rows[0]).toEqual({ n: 0 });
    const retry = await fx.app.inject({ method: 'POST', url: '/api/orders', payload: { itemId: 1, quantity: 1 }, headers: { 'idempotency-key': 'during-outage' } });
    expect(retry.statusCode).toBe(201);
  });

  // A connection that dies while a statement runs on it (the failover case the pool cannot see coming).
  async function terminateWhenRunning(marker: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const { rows } = await fx.pool.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()", [marker]);
      if (rows.length > 0) {
        await fx.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no running statement marked ${marker}`);
  }

  it('a checkout that has to wait still times out (the pool skips its timer only when a connection is idle)', async () => {
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const pool = createPool({ databaseUrl: db.url, dbPoolMax: 1, dbStatementTimeoutMs: 5000, dbConnectTimeoutMs: 300, instanceId: 'test' }, quiet);
    try {
      // The one connection idle: served at once, many times over, with no timeout in the way.
      for (let i = 0; i < 20; i++) expect((await pool.query<{ n: number }>('SELECT $1::int AS n', [i])).rows[0]?.n).toBe(i);
      // The one connection busy: the next checkout waits, and gives up after the connect timeout.
      const busy = pool.query('SELECT pg_sleep(1.5)');
      const started = Date.now();
      const waited = await pool.query('SELECT 1').then(() => null, (error: unknown) => error);
      const ms = Date.now() - started;
      expect(String(waited)).toMatch(/timeout exceeded when trying to connect/);
      expect(isConnectionError(waited)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(1200);
      await busy;
      // Two checkouts in one tick with one idle connection: the first takes it, the second waits (timed).
      const [a, b] = await Promise.all([pool.query('SELECT 1 AS n'), pool.query('SELECT 2 AS n')]);
      expect([a.rows[0], b.rows[0]]).toEqual([{ n: 1 }, { n: 2 }]);
    } finally {
      await pool.end();
    }
  });

  it('a read whose connection dies mid-query is retried once on a fresh connection', async () => {
    const read = readQuery<{ answer: number }>(fx.pool, "SELECT 42 AS answer, pg_sleep(0.4), 'read-marker' AS m", []);
    await terminateWhenRunning('read-marker');
    const result = await read;
    expect(result.rows[0]?.answer).toBe(42);
  });

  it('a connection cut between two statements of a transaction fails that write, and the process lives on', async () => {
    // Seen on a real cluster during a failover: HAProxy cuts the session while the client sits between
    // BEGIN and INSERT; pg then emits 'error' on the checked-out client, which crashed the replica.
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const write = inTransaction(fx.pool, async (client) => {
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await fx.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        // Idle on the client until the server's goodbye has arrived and been emitted.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await client.query("INSERT INTO orders (item_id, quantity, idempotency_key) VALUES (1, 1, 'between-statements')");
      });
      // A connection error, so the route answers 503 write_not_confirmed, as for a cut mid-statement.
      expect(isConnectionError(await write.then(() => null, (error: unknown) => error))).toBe(true);
      expect(uncaught).toEqual([]);
      const { rows } = await fx.pool.query("SELECT count(*)::int AS n FROM orders WHERE idempotency_key = 'between-statements'");
      expect(rows[0]).toEqual({ n: 0 });
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('a write whose connection dies mid-transaction is NOT retried and leaves no row', async () => {
    const write = inTransaction(fx.pool, async (client) => {
      await client.query("INSERT INTO orders (item_id, quantity, idempotency_key) VALUES (1, 1, 'write-marker-key')");
      await client.query("SELECT pg_sleep(0.4), 'write-marker' AS m");
    });
    // The rejection can land before terminateWhenRunning returns: observe it now so it is never unhandled.
    const outcome = write.then(() => null, (error: unknown) => error);
    await terminateWhenRunning('write-marker');
    expect(String(await outcome)).toMatch(/terminat/);
    const { rows } = await fx.pool.query("SELECT count(*)::int AS n FROM orders WHERE idempotency_key = 'write-marker-key'");
    expect(rows[0]).toEqual({ n: 0 });
  });
});
