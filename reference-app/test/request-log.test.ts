// Lines a request logs carry its request id (request.log is a child logger made on the first line it logs,
// logger.ts), and a request that logs nothing leaves no trace in the log.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresHandle } from './support/postgres.ts';
import { LazyChildLogger } from '../src/logger.ts';
import { startAppFixture, type AppFixture } from './app-fixture.ts';

let db: PostgresHandle;
let fx: AppFixture;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  db = await startPostgres();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  fx = await startAppFixture(db.url, { logger: pino({ base: { service: 'reference-app' } }, sink) });
});

afterAll(async () => {
  await fx?.close();
  await db?.stop();
});

describe('request logs', () => {
  it('carry the request id of the request that wrote them, and the parent logger bindings', async () => {
    const first = await fx.app.inject({ method: 'POST', url: '/api/orders', payload: { itemId: 1, quantity: 1 }, headers: { 'idempotency-key': 'log-1' } });
    const second = await fx.app.inject({ method: 'POST', url: '/api/orders', payload: { itemId: 1, quantity: 1 }, headers: { 'idempotency-key': 'log-1' } });
    expect([first.statusCode, second.statusCode]).toEqual([201, 200]);
    await new Promise((resolve) => setImmediate(resolve));
    const created = lines.filter((l) => l.msg === 'order created');
    const replayed = lines.filter((l) => l.msg === 'order replayed for a repeated Idempotency-Key');
    expect(created).toHaveLength(1);
    expect(replayed).toHaveLength(1);
    expect(created[0]).toMatchObject({ service: 'reference-app', level: 30, orderId: first.json<{ id: string }>().id });
    expect(typeof created[0]?.reqId).toBe('string');
    expect(typeof replayed[0]?.reqId).toBe('string');
    expect(created[0]?.reqId).not.toBe(replayed[0]?.reqId);
  });

  it('a request that logs nothing writes nothing', async () => {
    const before = lines.length;
    expect((await fx.app.inject('/health')).statusCode).toBe(200);
    expect((await fx.app.inject('/api/items/3')).statusCode).toBe(200);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.length).toBe(before);
  });
});

describe('LazyChildLogger', () => {
  it('makes the child on the first line, once; its lines, its level and its own children match a pino child', () => {
    const written: Record<string, unknown>[] = [];
    const parent = pino({ level: 'info' }, { write: (line: string) => void written.push(JSON.parse(line) as Record<string, unknown>) });
    let children = 0;
    const counting = Object.assign(Object.create(parent) as typeof parent, {
      child: (...args: Parameters<typeof parent.child>) => {
        children++;
        return parent.child(...args);
      },
    });
    const log = new LazyChildLogger(counting, { reqId: 'req-7' }, {});
    expect(log.level).toBe('info');
    expect(children).toBe(0);
    log.debug('below the level');
    log.info({ a: 1 }, 'first %s', 'line');
    log.warn('second');
    log.child({ step: 'inner' }).error('third');
    expect(children).toBe(1);
    expect(written.map((l) => [l.msg, l.reqId, l.level])).toEqual([['first line', 'req-7', 30], ['second', 'req-7', 40], ['third', 'req-7', 50]]);
    expect(written[0]?.a).toBe(1);
    expect(written[2]?.step).toBe('inner');
  });
});
