// The one stand-in service: its contract in process, its switches, and the process entry's SIGTERM handling.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { STAND_IN_MAIN, standInOptionsFromEnv, startStandInService, type StandInService } from './stand-in-service.ts';

const services: StandInService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

async function start(options: Parameters<typeof startStandInService>[0] = {}) {
  const service = await startStandInService(options);
  services.push(service);
  return service;
}

const get = async (url: string) => {
  const response = await fetch(url);
  return { status: response.status, connection: response.headers.get('connection'), body: await response.text() };
};

describe('startStandInService', () => {
  it('serves the reference contract and counts API requests only', async () => {
    const s = await start({ version: 'v7', instanceId: 'pod-a' });
    const item = await fetch(`${s.baseUrl}/api/items/5`);
    expect(item.status).toBe(200);
    expect(item.headers.get('x-app-version')).toBe('v7');
    expect(item.headers.get('x-instance-id')).toBe('pod-a');
    expect((await get(`${s.baseUrl}/api/items/5000`)).status).toBe(404);
    const order = (key: string) => fetch(`${s.baseUrl}/api/orders`, { method: 'POST', headers: { 'idempotency-key': key }, body: JSON.stringify({ itemId: 1, quantity: 1 }) });
    expect((await order('a')).status).toBe(201);
    expect((await order('a')).status).toBe(200);
    expect((await fetch(`${s.baseUrl}/api/orders`, { method: 'POST', body: '{' })).status).toBe(400);
    expect((await get(`${s.baseUrl}/api/cpu?ms=1`)).status).toBe(200);
    for (const path of ['/health', '/ready', '/metrics']) expect((await get(`${s.baseUrl}${path}`)).status).toBe(200);
    expect(s.counts()).toEqual({ total: 6, byName: { 'GET /api/items/:id': 2, 'POST /api/orders': 3, 'GET /api/cpu': 1 } });
    expect(s.orderIds()).toEqual(['pod-a-1']);
    expect((await get(`${s.baseUrl}/metrics`)).body).toMatch(/^http_requests_total\{status="201"\} 1$/m);
  });

  it.each([
    ['honest', 503],
    ['always', 200],
  ] as const)('drain(): readiness %s answers %i, requests are still served with Connection: close, then it closes', async (readiness, readyStatus) => {
    const s = await start({ readiness, drainDelayMs: 300 });
    const drained = s.drain();
    expect((await get(`${s.baseUrl}/ready`)).status).toBe(readyStatus);
    expect(await get(`${s.baseUrl}/api/items/1`)).toMatchObject({ status: 200, connection: 'close' });
    await drained;
    await expect(fetch(`${s.baseUrl}/health`)).rejects.toThrow();
  });

  it('burns CPU or sleeps for /api/cpu, as asked', async () => {
    // Measured in this process, which runs the server: a busy machine lowers the burn, so compare the two.
    const cpuMsOf = async (cpu: 'burn' | 'sleep') => {
      const s = await start({ cpu });
      const before = process.cpuUsage();
      expect((await get(`${s.baseUrl}/api/cpu?ms=200`)).status).toBe(200);
      const used = process.cpuUsage(before);
      return (used.user + used.system) / 1000;
    };
    const slept = await cpuMsOf('sleep');
    const burnt = await cpuMsOf('burn');
    expect(burnt - slept).toBeGreaterThan(50);
  });
});

describe('warm-up and readiness', () => {
  it.each([
    ['honest', 503],
    ['always', 200],
  ] as const)('readiness %s: while warming up the API answers 503 and /ready answers %i; afterwards both 200', async (readiness, readyWhileWarming) => {
    const s = await start({ warmupMs: 300, readiness });
    expect((await get(`${s.baseUrl}/api/items/1`)).status).toBe(503);
    expect((await get(`${s.baseUrl}/ready`)).status).toBe(readyWhileWarming);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await get(`${s.baseUrl}/api/items/1`)).status).toBe(200);
    expect((await get(`${s.baseUrl}/ready`)).status).toBe(200);
  });

  it('a slow service: reads and writes take at least their delay', async () => {
    const s = await start({ readDelayMs: 120, writeDelayMs: 150 });
    let started = performance.now();
    expect((await get(`${s.baseUrl}/api/items/1`)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
    started = performance.now();
    const write = await fetch(`${s.baseUrl}/api/orders`, { method: 'POST', body: JSON.stringify({ itemId: 1, quantity: 1 }) });
    expect(write.status).toBe(201);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });
});

describe('standInOptionsFromEnv', () => {
  it('reads the reference service names and the switches, with process defaults', () => {
    expect(standInOptionsFromEnv({ PORT: '0', APP_VERSION: 'v2', INSTANCE_ID: 'app-1', DRAIN_DELAY_MS: '1500' })).toMatchObject({
      port: 0, host: '127.0.0.1', version: 'v2', instanceId: 'app-1', drainDelayMs: 1500, cpu: 'burn', readiness: 'honest', onSigterm: 'drain',
    });
    expect(standInOptionsFromEnv({ STAND_IN_CPU: 'sleep', STAND_IN_READINESS: 'always', STAND_IN_ON_SIGTERM: 'exit' }))
      .toMatchObject({ cpu: 'sleep', readiness: 'always', onSigterm: 'exit' });
    expect(standInOptionsFromEnv({ STAND_IN_WARMUP_MS: '8000', STAND_IN_READ_DELAY_MS: '300', STAND_IN_WRITE_DELAY_MS: '40' }))
      .toMatchObject({ warmupMs: 8000, readDelayMs: 300, writeDelayMs: 40 });
  });

  it.each([
    [{ STAND_IN_CPU: 'spin' }, 'STAND_IN_CPU=spin: must be one of burn, sleep'],
    [{ DRAIN_DELAY_MS: '-1' }, 'DRAIN_DELAY_MS=-1 is not a non-negative integer'],
  ])('refuses %o', (env, message) => {
    expect(() => standInOptionsFromEnv(env)).toThrow(message);
  });
});

describe('the process entry', () => {
  it.each([
    ['drain', 400],
    ['exit', 0],
  ] as const)('on SIGTERM with STAND_IN_ON_SIGTERM=%s: exits 0 after about %i ms', async (onSigterm, drainMs) => {
    const child = spawn(process.execPath, ['--import', 'tsx', STAND_IN_MAIN], {
      env: { ...process.env, PORT: '0', DRAIN_DELAY_MS: '400', STAND_IN_ON_SIGTERM: onSigterm },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    const { url } = JSON.parse(line) as { url: string };
    expect((await get(`${url}/health`)).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const sent = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const tookMs = Date.now() - sent;
    expect(tookMs).toBeGreaterThanOrEqual(drainMs);
    expect(tookMs).toBeLessThan(drainMs + 1500);
  });
});
