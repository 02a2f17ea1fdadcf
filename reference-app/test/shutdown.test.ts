// SIGTERM under real keep-alive HTTP load against the real server process. The "load balancer" keeps
// sending for half the drain delay after the signal (endpoint removal propagating, as kube-proxy would
// lag), then sends nothing new. With a drain delay, no request may fail; without one, requests do fail,
// which shows this test can tell the difference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresHandle } from './support/postgres.ts';
import { failed, get, startLoad, type Outcome } from './http-load.ts';
import { startServer, type ServerProcess } from './spawn-server.ts';
import http from 'node:http';

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

async function sigtermUnderLoad(drainDelayMs: number, keepSendingMs: number) {
  const server = await startServer({
    DATABASE_URL: db.url, DRAIN_DELAY_MS: String(drainDelayMs), SHUTDOWN_TIMEOUT_MS: '8000', DB_PROBE_INTERVAL_MS: '200', LOG_LEVEL: 'warn',
  });
  servers.push(server);
  const load = startLoad({ baseUrl: server.baseUrl, clients: 3, pauseMs: 15, path: (n) => `/api/items/${(n % 1000) + 1}` });
  await sleep(500);

  // What the endpoints controller sees: /ready, polled on its own connection.
  const probeAgent = new http.Agent({ keepAlive: false });
  const readySeen: Outcome[] = [];
  let probing = true;
  const prober = (async () => {
    while (probing) {
      readySeen.push(await get(probeAgent, `${server.baseUrl}/ready`, 1000));
      await sleep(100);
    }
  })();

  const signalledAt = Date.now();
  server.child.kill('SIGTERM');
  await sleep(keepSendingMs);
  await load.stop();
  probing = false;
  await prober;
  const exit = await server.exited;
  return { load: load.outcomes, signalledAt, exitedAfterMs: Date.now() - signalledAt, exit, readySeen };
}

describe('graceful shutdown', () => {
  it('with DRAIN_DELAY_MS=1500: zero failed requests through the drain, exit 0 within the grace period', async () => {
    const run = await sigtermUnderLoad(1500, 750);
    const afterSignal = run.load.filter((o) => o.at >= run.signalledAt);
    expect(run.load.length).toBeGreaterThan(50);
    expect(afterSignal.length).toBeGreaterThan(10); // the drain was really exercised under load
    expect(run.load.filter(failed)).toEqual([]);
    // Readiness flipped to 503 while requests were still being served.
    expect(run.readySeen.some((o) => o.status === 503)).toBe(true);
    // Draining replies told keep-alive clients to reconnect elsewhere.
    expect(afterSignal.some((o) => o.connectionClose)).toBe(true);
    expect(run.exit).toEqual({ code: 0, signal: null });
    expect(run.exitedAfterMs).toBeLessThan(8000);
  });

  it('negative control, DRAIN_DELAY_MS=0 and traffic continuing: requests DO fail', async () => {
    const run = await sigtermUnderLoad(0, 1000);
    expect(run.load.filter(failed).length).toBeGreaterThan(0);
    expect(run.exit.code).toBe(0);
  });
});
