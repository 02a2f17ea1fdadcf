// A minimal OTLP/HTTP trace receiver, so the harness itself can prove that the service under test exported
// traces during the run. It accepts OTLP/JSON (the app is started with OTEL_EXPORTER_OTLP_PROTOCOL=http/json)
// and counts spans per service; protobuf bodies are counted as batches only, since decoding them would need
// the whole proto schema for a yes/no question.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TraceStats {
  batches: number;
  spans: number;
  services: Record<string, number>;
  spanNames: Record<string, number>;
}

export interface OtlpReceiver {
  url: string;
  stats(): TraceStats;
  close(): Promise<void>;
}

interface OtlpJson {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value?: { stringValue?: string } }> };
    scopeSpans?: Array<{ spans?: Array<{ name?: string }> }>;
  }>;
}

export function countSpans(body: OtlpJson, into: TraceStats): void {
  for (const resourceSpans of body.resourceSpans ?? []) {
    const service = resourceSpans.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue ?? 'unknown';
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        into.spans += 1;
        into.services[service] = (into.services[service] ?? 0) + 1;
        const name = span.name ?? 'unnamed';
        into.spanNames[name] = (into.spanNames[name] ?? 0) + 1;
      }
    }
  }
}

export async function startOtlpReceiver(host: string = '127.0.0.1'): Promise<OtlpReceiver> {
  const stats: TraceStats = { batches: 0, spans: 0, services: {}, spanNames: {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST' && req.url?.startsWith('/v1/traces')) {
        stats.batches += 1;
        if ((req.headers['content-type'] ?? '').includes('json')) {
          try {
            countSpans(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpJson, stats);
          } catch {
            // A malformed batch is the exporter's problem; it still proves the exporter is on.
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      // Metrics and logs exporters may be on too; accept them so they do not retry forever.
      res.writeHead(req.method === 'POST' ? 200 : 404, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    stats: () => structuredClone(stats),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
