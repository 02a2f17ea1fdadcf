// Tracing end to end: the real server process exports OTLP/HTTP to a tiny receiver started here, with
// HTTP, Fastify and pg spans in one trace, and the pino log line of that request carrying its trace_id.
// Also: with no OTLP endpoint set, nothing is exported and logs carry no trace ids. Both ways the service
// starts: the TypeScript sources under tsx (clusters/local) and the compiled dist/ the image runs, where the
// pg spans and the trace ids in pino's lines prove the bundle still loads those packages after the SDK's hooks.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresHandle } from './support/postgres.ts';
import { buildIntoTemp, type BuiltService } from './built-service.ts';
import { startServer, TSX_ENTRY, type ServerEntry, type ServerProcess } from './spawn-server.ts';

interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number }
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
  it('exports http, fastify and pg spans of one request in one trace, and its log line carries the trace_id', async () => {
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
    server.child.kill('SIGTERM'); // shutdown flushes the span batch
    expect((await server.exited).code).toBe(0);

    expect(received.every((r) => r.path === '/v1/traces' && r.contentType === 'application/json')).toBe(true);
    const resource = received.flatMap((r) => r.body.resourceSpans ?? [])[0]?.resource.attributes ?? [];
    const attribute = (key: string) => resource.find((a) => a.key === key)?.value.stringValue;
    expect(attribute('service.name')).toBe('reference-app-test');
    expect(attribute('service.version')).toBe('3.1.4');
    expect(attribute('service.instance.id')).toBe('traced-pod');

    const httpServer = spansBy('@opentelemetry/instrumentation-http').find((s) => s.kind === 2 && s.name.startsWith('POST'));
    expect(httpServer).toBeDefined();
    const traceId = httpServer?.traceId;
    expect(spansBy('@fastify/otel').filter((s) => s.traceId === traceId).length).toBeGreaterThan(0);
    const pgSpans = spansBy('@opentelemetry/instrumentation-pg').filter((s) => s.traceId === traceId);
    expect(pgSpans.some((s) => /INSERT|pg\.query/.test(s.name))).toBe(true);
    // Probes are not traced.
    expect(spansBy('@opentelemetry/instrumentation-http').some((s) => s.name.includes('/ready'))).toBe(false);

    const orderLog = server.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'order created');
    expect(orderLog?.trace_id).toBe(traceId);
    expect(orderLog?.span_id).toMatch(/^[0-9a-f]{16}$/);
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
