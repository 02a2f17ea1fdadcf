// Logs are written off the request path: a log reader that stops draining stdout (a full pipe to the
// container runtime) must not stall requests, and every line must still arrive once it drains, the last
// ones included when the process exits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { find, parsePrometheusText } from './prom-text.ts';
import { startServer, type ServerProcess } from './spawn-server.ts';
import { startPostgres, type PostgresHandle } from './support/postgres.ts';

let db: PostgresHandle;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  db = await startPostgres();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.kill()));
  await db?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function timed(url: string, init?: RequestInit): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

describe('logging', () => {
  it('a stalled stdout reader does not stall requests; every line arrives once it drains, the last ones at exit', async () => {
    const server = await startServer({ DATABASE_URL: db.url, DRAIN_DELAY_MS: '0', LOG_LEVEL: 'info' });
    servers.push(server);
    // Stop reading the service's stdout: once the pipe's buffer is full, a write(2) to it blocks (or fails
    // with EAGAIN and a synchronous logger sleeps and retries), which would stop the event loop.
    server.child.stdout?.pause();

    // Each created order logs one line of ~250 bytes: 3000 of them are far more than a pipe buffer holds.
    const ORDERS = 3000;
    let next = 0;
    const orderStatuses: number[] = [];
    const writers = Array.from({ length: 8 }, async () => {
      while (next < ORDERS) {
        next++;
        const { status } = await timed(`${server.baseUrl}/api/orders`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ itemId: 1 + (next % 100), quantity: 1 }),
        });
        orderStatuses.push(status);
      }
    });
    const healthMs: number[] = [];
    let writing = true;
    const prober = (async () => {
      while (writing) {
        // A stalled loop shows as a timeout (10 s), recorded rather than thrown here.
        healthMs.push(await timed(`${server.baseUrl}/health`).then((r) => (r.status === 200 ? r.ms : Infinity), () => Infinity));
        await sleep(20);
      }
    })();
    await Promise.all(writers);
    writing = false;
    await prober;

    expect(orderStatuses.filter((s) => s !== 201)).toEqual([]);
    expect(orderStatuses).toHaveLength(ORDERS);
    expect(healthMs.length).toBeGreaterThan(5);
    // Generous for a shared 2-core machine; a blocked loop would show seconds, or time out.
    expect(Math.max(...healthMs)).toBeLessThan(1000);
    const metrics = parsePrometheusText(await (await fetch(`${server.baseUrl}/metrics`)).text());
    expect(find(metrics, 'log_lines_dropped_total')[0]?.value).toBe(0);

    server.child.stdout?.resume();
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    const lines = server.stdoutLines.map((l) => JSON.parse(l) as { msg?: string });
    expect(lines.filter((l) => l.msg === 'order created')).toHaveLength(ORDERS);
    expect(lines.at(-1)?.msg).toBe('shutdown complete');
  }, 120_000);
});
