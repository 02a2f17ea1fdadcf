// A stand-in for the reference service (reference-app/), used only by the load engine's tests and bench.
// Why not the real thing: the runner's tests must prove what k6 sent and what the runner counted, without
// PostgreSQL, pod restarts or anybody else's bugs in the way. It serves the same three endpoints with the
// same status codes and headers, keeps orders in memory, and counts every request it answers so a test can
// compare the server's own count with the runner's.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInOptions {
  version?: string;
  instanceId?: string;
  /** Added latency per endpoint, in ms. `/api/cpu?ms=N` sleeps N ms here (no CPU burnt: the generator shares the machine). */
  readDelayMs?: number;
  writeDelayMs?: number;
}

export interface StandInService {
  baseUrl: string;
  /** Requests answered, in total and per route name (same names as the k6 `name` tag). */
  counts(): { total: number; byName: Record<string, number> };
  /** Ids of the orders this service stored (acknowledged with 2xx). */
  orderIds(): string[];
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startStandInService(options: StandInOptions = {}): Promise<StandInService> {
  const version = options.version ?? 'v1';
  const instanceId = options.instanceId ?? 'stand-in-0';
  const byName: Record<string, number> = {};
  const ordersByKey = new Map<string, string>();
  let total = 0;
  let nextOrder = 1;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-app-version': version,
      'x-instance-id': instanceId,
    });
    res.end(text);
  };
  const count = (name: string) => {
    total += 1;
    byName[name] = (byName[name] ?? 0) + 1;
  };
  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const item = /^\/api\/items\/(\d+)$/.exec(url.pathname);
      if (req.method === 'GET' && item) {
        if (options.readDelayMs) await sleep(options.readDelayMs);
        count('GET /api/items/:id');
        const id = Number(item[1]);
        if (id < 1 || id > 1000) return send(res, 404, { error: 'not found' });
        return send(res, 200, { id, name: `item-${id}`, priceCents: 100 + id });
      }
      if (req.method === 'POST' && url.pathname === '/api/orders') {
        const body = await readBody(req);
        if (options.writeDelayMs) await sleep(options.writeDelayMs);
        count('POST /api/orders');
        let parsed: { itemId?: unknown; quantity?: unknown };
        try {
          parsed = JSON.parse(body) as typeof parsed;
        } catch {
          return send(res, 400, { error: 'invalid json' });
        }
        if (typeof parsed.itemId !== 'number' || typeof parsed.quantity !== 'number') return send(res, 400, { error: 'invalid order' });
        const key = req.headers['idempotency-key'];
        const existing = typeof key === 'string' ? ordersByKey.get(key) : undefined;
        if (existing) return send(res, 200, { id: existing, itemId: parsed.itemId, quantity: parsed.quantity });
        const id = String(nextOrder++);
        if (typeof key === 'string') ordersByKey.set(key, id);
        return send(res, 201, { id, itemId: parsed.itemId, quantity: parsed.quantity });
      }
      if (req.method === 'GET' && url.pathname === '/api/cpu') {
        await sleep(Number(url.searchParams.get('ms') ?? '0'));
        count('GET /api/cpu');
        return send(res, 200, { ms: Number(url.searchParams.get('ms') ?? '0') });
      }
      if (req.method === 'GET' && url.pathname === '/__stand-in/counts') {
        // Not counted itself: lets a bench in another process read the server's own count.
        return send(res, 200, { total, byName });
      }
      count('other');
      return send(res, 404, { error: 'not found' });
    })().catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: String(err) });
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    counts: () => ({ total, byName: { ...byName } }),
    orderIds: () => [...ordersByKey.values()],
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
