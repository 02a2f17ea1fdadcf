// Tracing end to end: the real server process exports OTLP/HTTP to a tiny receiver started here: the HTTP
// server span named after the route template with the pg spans of that request under it, in one trace, and
// the pino log line of that request carrying its trace_id.
// Also: with no OTLP endpoint set, nothing is exported and logs carry no trace ids. Both ways the service
// starts: the TypeScript sources under tsx (`npm start`) and the compiled dist/ the image runs.
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresHandle } from './support/postgres.ts';
import { buildIntoTemp, type BuiltService } from './built-service.ts';
import { startServer, TSX_ENTRY, type ServerEntry, type ServerProcess } from './spawn-server.ts';

interface OtlpAttribute { key: string; value: { stringValue?: string; intValue?: string | number } }
interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpAttribute[] }
interface OtlpScopeSpans { scope: { name: string }; spans: OtlpSpan[] }
interface OtlpResourceSpans { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: OtlpScopeSpans[] }

interface Received { path: string; contentType: string | undefined; body: { resourceSpans?: OtlpResourceSpans[] } }

let db: PostgresHandle;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
const servers: ServerProcess[] = [];
let built: BuiltService | undefined;

beforeAll(async () => {
  db = await startPostgres();
  built = await buildIntoTemp();
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        received.push({ path: request.url ?? '', contentType: request.headers['content-type'], body: JSON.parse(text) as Received['body'] });
      } catch {
        received.push({ path: request.url ?? '', contentType: request.headers['content-type'], body: {} });
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.kill()));
  await new Promise((resolve) => receiver?.close(resolve));
  await db?.stop();
  built?.remove();
});

/** The statements' spans (kind 3 = CLIENT), named as @opentelemetry/instrumentation-pg names them. */
function statementSpans(): OtlpSpan[] {
  return spansBy('').filter((s) => s.kind === 3 && s.name.startsWith('pg.query:'));
}

function spansBy(scopePrefix: string): OtlpSpan[] {
  return received.flatMap((r) => r.body.resourceSpans ?? [])
    .flatMap((rs) => rs.scopeSpans)
    .filter((ss) => ss.scope.name.startsWith(scopePrefix))
    .flatMap((ss) => ss.spans);
}

const ENTRIES: [string, () => ServerEntry][] = [
  ['tsx: node --import tsx src/server.ts', () => TSX_ENTRY],
  ['the image: node dist/server.mjs', () => (built as BuiltService).entry],
];

describe.each(ENTRIES)('OpenTelemetry (%s)', (name, entry) => {
  it('exports the http span of one request, named after its route, with its pg spans under it, and its log line carries the trace_id', async () => {
    received.length = 0; // only this server's exports
    const server = await startServer({
      DATABASE_URL: db.url, DRAIN_DELAY_MS: '0', APP_VERSION: '3.1.4', INSTANCE_ID: 'traced-pod',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OTEL_SERVICE_NAME: 'reference-app-test', OTEL_BSP_SCHEDULE_DELAY: '100',
    }, undefined, entry());
    servers.push(server);
    const response = await fetch(`${server.baseUrl}/api/orders`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': `traced-order ${name}` }, body: JSON.stringify({ itemId: 5, quantity: 2 }),
    });
    expect(response.status).toBe(201);
    // A caller's trace continues here: its traceparent makes the read part of the caller's trace.
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const read = await fetch(`${server.baseUrl}/api/items/7`, { headers: { traceparent: `00-${callerTrace}-${callerSpan}-01` } });
    expect(read.status).toBe(200);
    // A line written outside any request carries no request's trace id: the pool's idle connections, which
    // those requests opened, are cut here, and the pool's 'error' is logged on its own (with an ambient
    // context it carried the trace id of the request that had opened the connection).
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'reference-app/traced-pod'");
    await admin.end();
    const lines = () => server.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (let i = 0; i < 50 && !lines().some((l) => l.msg === 'database connection lost; it will be replaced'); i++) await sleep(100);
    const lost = lines().filter((l) => l.msg === 'database connection lost; it will be replaced');
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.filter((l) => l.trace_id !== undefined)).toEqual([]);
    server.child.kill('SIGTERM'); // shutdown flushes the span batch
    expect((await server.exited).code).toBe(0);

    expect(received.every((r) => r.path === '/v1/traces' && r.contentType === 'application/json')).toBe(true);
    const resource = received.flatMap((r) => r.body.resourceSpans ?? [])[0]?.resource.attributes ?? [];
    const attribute = (key: string) => resource.find((a) => a.key === key)?.value.stringValue;
    expect(attribute('service.name')).toBe('reference-app-test');
    expect(attribute('service.version')).toBe('3.1.4');
    expect(attribute('service.instance.id')).toBe('traced-pod');

    // kind 2 = SERVER, started by the route's own hook and named after the route template, so requests of
    // one route group together whatever their ids.
    const httpServer = spansBy('reference-app').find((s) => s.kind === 2 && s.name.startsWith('POST'));
    expect(httpServer?.name).toBe('POST /api/orders');
    expect(httpServer?.attributes?.find((a) => a.key === 'http.route')?.value.stringValue).toBe('/api/orders');
    const traceId = httpServer?.traceId;
    // The transaction's statements, each a child of the request's span; no span per pool checkout.
    const pgSpans = statementSpans().filter((s) => s.traceId === traceId);
    expect(pgSpans.some((s) => /INSERT/.test(s.name))).toBe(true);
    expect(pgSpans.every((s) => s.parentSpanId === httpServer?.spanId)).toBe(true);
    expect(pgSpans.filter((s) => s.name.includes('connect'))).toEqual([]);
    // Every span of the trace is the HTTP span or a statement (BEGIN, INSERT, COMMIT).
    const inTrace = received.flatMap((r) => r.body.resourceSpans ?? []).flatMap((rs) => rs.scopeSpans).flatMap((ss) => ss.spans).filter((s) => s.traceId === traceId);
    expect(inTrace).toHaveLength(1 + pgSpans.length);
    // Probes are not traced (the harness and startServer poll /ready and /health).
    expect(spansBy('').some((s) => /\/(ready|health|metrics)/.test(s.name))).toBe(false);

    const readSpan = spansBy('reference-app').find((s) => s.kind === 2 && s.traceId === callerTrace);
    expect(readSpan).toMatchObject({ name: 'GET /api/items/:id', kind: 2, parentSpanId: callerSpan });
    const readStatements = statementSpans().filter((s) => s.traceId === callerTrace && s.parentSpanId === readSpan?.spanId);
    expect(readStatements.map((s) => s.name)).toEqual(['pg.query:SELECT postgres']);
    expect(Object.fromEntries((readStatements[0]?.attributes ?? []).map((a) => [a.key, a.value.stringValue ?? a.value.intValue]))).toMatchObject({
      'db.system.name': 'postgresql', 'db.namespace': 'postgres', 'db.query.text': 'SELECT id, name, price_cents FROM items WHERE id = $1', 'server.address': '127.0.0.1',
    });

    const orderLog = server.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'order created');
    expect(orderLog?.trace_id).toBe(traceId);
    expect(orderLog?.span_id).toBe(httpServer?.spanId); // written in the handler, inside the request's span
  });

  it('samples by OTEL_TRACES_SAMPLER: a request left out exports nothing but still logs its trace id; a sampled caller\'s trace is kept', async () => {
    received.length = 0;
    // Ratio 0: no request of its own is sampled; parent-based: a caller that sampled its trace still gets it.
    const server = await startServer({
      DATABASE_URL: db.url, DRAIN_DELAY_MS: '0', OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0',
    }, undefined, entry());
    servers.push(server);
    const response = await fetch(`${server.baseUrl}/api/orders`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': `unsampled ${name}` }, body: JSON.stringify({ itemId: 4, quantity: 1 }),
    });
    expect(response.status).toBe(201);
    const callerTrace = '5bf92f3577b34da6a3ce929d0e0e4737';
    const read = await fetch(`${server.baseUrl}/api/items/7`, { headers: { traceparent: `00-${callerTrace}-00f067aa0ba902b8-01` } });
    expect(read.status).toBe(200);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);

    const orderLog = server.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'order created');
    expect(orderLog?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(orderLog?.trace_flags).toBe('00');
    const exported = spansBy('');
    expect(exported.filter((s) => s.traceId === orderLog?.trace_id)).toEqual([]);
    expect(exported.filter((s) => s.traceId !== callerTrace)).toEqual([]);
    expect(exported.find((s) => s.kind === 2)).toMatchObject({ name: 'GET /api/items/:id', traceId: callerTrace });
  });

  it('is entirely off without an OTLP endpoint: no export, no trace ids in logs', async () => {
    const before = received.length;
    const server = await startServer({ DATABASE_URL: db.url, DRAIN_DELAY_MS: '0', OTEL_SERVICE_NAME: 'ignored-without-endpoint' }, undefined, entry());
    servers.push(server);
    const response = await fetch(`${server.baseUrl}/api/orders`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ itemId: 6, quantity: 1 }),
    });
    expect(response.status).toBe(201);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    expect(received.length).toBe(before);
    const orderLog = server.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'order created');
    expect(orderLog).toBeDefined();
    expect(orderLog?.trace_id).toBeUndefined();
    const listening = server.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'listening');
    expect(listening?.tracing).toBe(false);
  });
});
