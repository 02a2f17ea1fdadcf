// THE stand-in for the reference service (reference-app/), one for every test and bench that needs a service
// but not the real one: a dependency-free node:http server with the same contract and no database.
//  - In process: `startStandInService(options)`, for the load engines' tests (they must prove what the
//    generator sent against what the server counted, without PostgreSQL, pod restarts or anybody else's
//    bugs in the way) and the orchestration tests.
//  - As a process: `testing/stand-in-service-main.ts`, configured from the environment like the reference
//    service, which the embedded cluster runs in pods (`standInCommand()`, given as `--app`).
//
// Contract (the reference service's): GET /api/items/:id (1..1000, else 404), POST /api/orders with an
// optional Idempotency-Key (201 new, 200 replay, 400 invalid), GET /api/cpu?ms=N, /health, /ready, /metrics
// (http_request_duration_seconds histogram, http_requests_total{status}); every answer carries x-app-version
// and x-instance-id. Orders live in memory. Every API answer is counted per route name (the k6 `name` tag),
// so a test can compare the server's own count with the generator's; probes and scrapes are not counted.
//
// Behaviours that differ between users are switches, never copies:
//  - `cpu`: 'sleep' (default in process: the test runner and the generator share this process's machine and
//    event loop) or 'burn' (default as a process: burnt CPU is what the local autoscaler measures).
//  - `readiness`: 'honest' (default: /ready answers 503 until warmed up and from the moment a drain starts)
//    or 'always' (a service whose readiness lies: 200 from its first moment until it is gone).
//  - `warmupMs`: for this long after it listens the API answers 503 (a service still loading what it serves
//    from); honest readiness says so, lying readiness does not.
//  - `readDelayMs` / `writeDelayMs`: a slow service.
//  - `drainDelayMs`: how long `drain()` (SIGTERM, as a process) keeps serving, with `Connection: close`,
//    before the server closes. Whether SIGTERM drains at all is the process entry's switch.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export type CpuMode = 'sleep' | 'burn';
export type ReadinessMode = 'honest' | 'always';
/** What the process does on SIGTERM: drain (as the reference service does) or exit at once, dropping in-flight requests. */
export type SigtermMode = 'drain' | 'exit';

export interface StandInOptions {
  version?: string;
  instanceId?: string;
  /** Default 127.0.0.1 and a port the kernel picks. */
  host?: string;
  port?: number;
  /** Added latency per endpoint, in ms. */
  readDelayMs?: number;
  writeDelayMs?: number;
  /** What `GET /api/cpu?ms=N` does for N ms (capped at 1000): sleep (default) or burn CPU. */
  cpu?: CpuMode;
  /** 'honest' (default): /ready is 503 until warm and once a drain started; 'always': it is always 200. */
  readiness?: ReadinessMode;
  /** How long after listening the API answers 503, not yet able to serve (default 0). */
  warmupMs?: number;
  /** How long `drain()` keeps serving before the server closes (default 0). */
  drainDelayMs?: number;
}

export interface StandInService {
  baseUrl: string;
  port: number;
  /** API requests answered, in total and per route name (same names as the k6 `name` tag). */
  counts(): { total: number; byName: Record<string, number> };
  /** Ids of the orders this service stored (acknowledged with 2xx). */
  orderIds(): string[];
  /**
   * A graceful shutdown, as the reference service does on SIGTERM: readiness fails at once (unless it
   * lies), requests are still served for `drainDelayMs` with `Connection: close`, then the server stops
   * accepting and resolves once in-flight requests are done. Idempotent.
   */
  drain(): Promise<void>;
  /** Stops at once, cutting every connection. Idempotent. */
  close(): Promise<void>;
}

/** The process entry: what `--app` runs in pods of the embedded cluster, and what the tests spawn. */
export const STAND_IN_MAIN = resolve(fileURLToPath(new URL('./stand-in-service-main.ts', import.meta.url)));

/**
 * The `--app` command line that runs the stand-in as a process; `env` sets its switches (see
 * `standInOptionsFromEnv`). Through `env(1)`, so a pod's shell can still `exec` it as a plain command.
 */
export function standInCommand(env: Record<string, string> = {}): string {
  const assignments = Object.entries(env).map(([key, value]) => `${key}=${value}`);
  const prefix = assignments.length > 0 ? ['env', ...assignments] : [];
  return [...prefix, process.execPath, '--import', 'tsx', STAND_IN_MAIN].join(' ');
}

/**
 * The process's settings from its environment, named as the reference service names them (PORT, HOST,
 * APP_VERSION, INSTANCE_ID, DRAIN_DELAY_MS), plus the stand-in's own switches: STAND_IN_CPU (burn by default:
 * as a process it is a replica whose CPU the autoscaler reads), STAND_IN_READINESS, STAND_IN_ON_SIGTERM,
 * STAND_IN_WARMUP_MS, STAND_IN_READ_DELAY_MS and STAND_IN_WRITE_DELAY_MS.
 * A bad value throws.
 */
export function standInOptionsFromEnv(env: NodeJS.ProcessEnv): StandInOptions & { onSigterm: SigtermMode } {
  const number = (key: string, fallback: number) => {
    const raw = env[key];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${key}=${raw} is not a non-negative integer`);
    return value;
  };
  const oneOf = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const raw = env[key];
    if (raw === undefined || raw === '') return fallback;
    if (!(allowed as readonly string[]).includes(raw)) throw new Error(`${key}=${raw}: must be one of ${allowed.join(', ')}`);
    return raw as T;
  };
  return {
    port: number('PORT', 8080),
    host: env.HOST || '127.0.0.1',
    version: env.APP_VERSION || 'v1',
    // The host name too: in pods (a host name each) every process may have the same pid.
    instanceId: env.INSTANCE_ID || `stand-in-${hostname()}-${process.pid}`,
    drainDelayMs: number('DRAIN_DELAY_MS', 0),
    readDelayMs: number('STAND_IN_READ_DELAY_MS', 0),
    writeDelayMs: number('STAND_IN_WRITE_DELAY_MS', 0),
    warmupMs: number('STAND_IN_WARMUP_MS', 0),
    cpu: oneOf<CpuMode>('STAND_IN_CPU', ['burn', 'sleep'], 'burn'),
    readiness: oneOf<ReadinessMode>('STAND_IN_READINESS', ['honest', 'always'], 'honest'),
    onSigterm: oneOf<SigtermMode>('STAND_IN_ON_SIGTERM', ['drain', 'exit'], 'drain'),
  };
}

const CPU_MAX_MS = 1000;
const BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Latency histogram and status counts of the API routes, in Prometheus text format. */
class RequestMetrics {
  private readonly buckets = BUCKETS_S.map(() => 0);
  private sumS = 0;
  private count = 0;
  private readonly byStatus = new Map<number, number>();

  observe(seconds: number, status: number): void {
    BUCKETS_S.forEach((le, i) => {
      if (seconds <= le) this.buckets[i] = (this.buckets[i] ?? 0) + 1;
    });
    this.sumS += seconds;
    this.count += 1;
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }

  text(): string {
    const lines = ['# TYPE http_request_duration_seconds histogram'];
    BUCKETS_S.forEach((le, i) => lines.push(`http_request_duration_seconds_bucket{le="${le}"} ${this.buckets[i] ?? 0}`));
    lines.push(`http_request_duration_seconds_bucket{le="+Inf"} ${this.count}`);
    lines.push(`http_request_duration_seconds_sum ${this.sumS}`, `http_request_duration_seconds_count ${this.count}`);
    lines.push('# TYPE http_requests_total counter');
    for (const [status, n] of this.byStatus) lines.push(`http_requests_total{status="${status}"} ${n}`);
    return lines.join('\n') + '\n';
  }
}

function burnCpu(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // burn CPU on purpose: this is what the autoscaler measures
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startStandInService(options: StandInOptions = {}): Promise<StandInService> {
  const version = options.version ?? 'v1';
  const instanceId = options.instanceId ?? 'stand-in-0';
  const cpu = options.cpu ?? 'sleep';
  const byName: Record<string, number> = {};
  const ordersByKey = new Map<string, string>();
  const metrics = new RequestMetrics();
  let total = 0;
  let nextOrder = 1;
  let draining = false;
  // Set once listening: the warm-up counts from the moment the port is open, as a probe would see it.
  let warmUntil = Number.POSITIVE_INFINITY;
  const warm = () => performance.now() >= warmUntil;

  const count = (name: string) => {
    total += 1;
    byName[name] = (byName[name] ?? 0) + 1;
  };

  /** Answers one API request: route name for the counts, status and JSON body. */
  const api = async (req: IncomingMessage, url: URL): Promise<{ name: string; status: number; body: unknown }> => {
    const item = /^\/api\/items\/(\d+)$/.exec(url.pathname);
    if (req.method === 'GET' && item) {
      if (options.readDelayMs) await sleep(options.readDelayMs);
      const id = Number(item[1]);
      if (id < 1 || id > 1000) return { name: 'GET /api/items/:id', status: 404, body: { error: 'not found' } };
      return { name: 'GET /api/items/:id', status: 200, body: { id, name: `item-${id}`, priceCents: 100 + id } };
    }
    if (req.method === 'POST' && url.pathname === '/api/orders') {
      const name = 'POST /api/orders';
      const text = await readBody(req);
      if (options.writeDelayMs) await sleep(options.writeDelayMs);
      let parsed: { itemId?: unknown; quantity?: unknown };
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        return { name, status: 400, body: { error: 'invalid json' } };
      }
      if (typeof parsed.itemId !== 'number' || typeof parsed.quantity !== 'number') return { name, status: 400, body: { error: 'invalid order' } };
      const key = req.headers['idempotency-key'];
      const existing = typeof key === 'string' ? ordersByKey.get(key) : undefined;
      if (existing) return { name, status: 200, body: { id: existing, itemId: parsed.itemId, quantity: parsed.quantity } };
      // Unique across replicas, as a database's ids would be: the acknowledged ids of a run are audited together.
      const id = `${instanceId}-${nextOrder++}`;
      if (typeof key === 'string') ordersByKey.set(key, id);
      return { name, status: 201, body: { id, itemId: parsed.itemId, quantity: parsed.quantity } };
    }
    if (req.method === 'GET' && url.pathname === '/api/cpu') {
      const ms = Math.min(Math.max(Number(url.searchParams.get('ms') ?? 0) || 0, 0), CPU_MAX_MS);
      if (cpu === 'burn') burnCpu(ms);
      else await sleep(ms);
      return { name: 'GET /api/cpu', status: 200, body: { ms, version, instance: instanceId } };
    }
    return { name: 'other', status: 404, body: { error: 'not found' } };
  };

  const server = createServer((req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const send = (status: number, body: string, type: string) => {
      res.writeHead(status, {
        'content-type': type,
        'content-length': Buffer.byteLength(body),
        'x-app-version': version,
        'x-instance-id': instanceId,
        // While draining, keep-alive clients (HAProxy, k6) are told to move to another replica.
        ...(draining ? { connection: 'close' } : {}),
      });
      res.end(body);
    };
    void (async () => {
      switch (url.pathname) {
        case '/health':
          return send(200, 'ok', 'text/plain');
        case '/ready':
          if (options.readiness === 'always') return send(200, 'ready', 'text/plain');
          if (!warm()) return send(503, 'warming up', 'text/plain');
          return draining ? send(503, 'draining', 'text/plain') : send(200, 'ready', 'text/plain');
        case '/metrics':
          return send(200, metrics.text(), 'text/plain; version=0.0.4');
        case '/__stand-in/counts':
          // Not counted itself: lets a bench in another process read the server's own count.
          return send(200, JSON.stringify({ total, byName }), 'application/json');
      }
      const answer = warm() ? await api(req, url) : { name: 'warming up', status: 503, body: { error: 'warming up' } };
      count(answer.name);
      send(answer.status, JSON.stringify(answer.body), 'application/json');
      metrics.observe((performance.now() - started) / 1000, answer.status);
    })().catch((err: unknown) => {
      if (!res.headersSent) send(500, JSON.stringify({ error: String(err) }), 'application/json');
    });
  });
  // Longer than any test's pauses: the client (k6, HAProxy) should be the one to drop an idle connection,
  // never the server just as the client reuses it (k6 does not retry such a request).
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((listening, failed) => {
    server.once('error', failed);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => listening());
  });
  const { port, address } = server.address() as AddressInfo;
  warmUntil = performance.now() + (options.warmupMs ?? 0);

  let closed: Promise<void> | undefined;
  const stop = (cut: boolean) => {
    closed ??= new Promise<void>((done) => {
      server.close(() => done());
      if (cut) server.closeAllConnections();
      else server.closeIdleConnections();
    });
    return closed;
  };
  let drained: Promise<void> | undefined;

  return {
    baseUrl: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    port,
    counts: () => ({ total, byName: { ...byName } }),
    orderIds: () => [...ordersByKey.values()],
    drain: () => {
      draining = true;
      drained ??= sleep(options.drainDelayMs ?? 0).then(() => stop(false));
      return drained;
    },
    close: () => stop(true),
  };
}
