// OpenTelemetry tracing: a server span per request and a span per SQL statement under it, and
// trace_id/span_id in every pino line written inside a request, exported over OTLP/HTTP. Configured only by
// the standard OTEL_* variables and entirely off (no SDK, no hooks, not even loaded) unless an OTLP endpoint
// is set: the SDK and its instrumentations are ~14 MB of heap and ~1 s of start-up on a small core, which a
// replica that does not trace should not carry into every GC.
//
// Two spans a request. The server span is started by the route's own onRequest hook (app.ts), named after
// the route template (`GET /api/items/:id`), and ended by the response's 'close'; the rest of the request
// runs in its context, so pg's spans and pino's trace ids find it. This replaced @fastify/otel and
// @opentelemetry/instrumentation-http, with which a traced read cost 2.7x the CPU of an untraced one under
// load and 5x at 300 requests/s (now 1.5x and 2.5x; bench/RESULTS.md, reference service): five spans where two do
// (an HTTP span, a Fastify `request` span, a span around every hook and the handler, one per pool checkout),
// three more Fastify hooks (onRequest, onSend, onResponse, run even for the untraced probes), every
// request's and response's event-emitter methods patched to carry the context, and a wrapper around every
// `request` event of the server.
// Probes and scrapes (/health, /ready, /metrics) get no span and pay nothing; nor does a pool checkout
// (`pg-pool.connect`): a checkout of an idle connection is a microsecond, and a slow one shows as the gap
// before the query's span.
//
// ESM matters here: instrumentations patch modules as they load, so this must run before pg and pino are
// imported (server.ts imports the rest of the app dynamically, after start). pg is reached through CommonJS
// require() and is caught by require-in-the-middle, but our own `import pino` is an ES import, which only
// the import-in-the-middle loader hook can see; it is registered for pino and pg only, so the rest of the
// module graph loads untouched.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { register } from 'node:module';

/** Runs a request of one route inside its server span. */
export type TraceRequest = (request: IncomingMessage, response: ServerResponse, next: () => void) => void;

export interface Telemetry {
  readonly enabled: boolean;
  /**
   * The tracer of a route's requests, made once per route as it is registered (`route` is its template);
   * undefined for the routes that are not traced (probes, scrapes) and whenever tracing is off.
   */
  traceRoute(route: string): TraceRequest | undefined;
  /** Flush pending spans and stop; safe to call when disabled. */
  shutdown(): Promise<void>;
}

type Env = Record<string, string | undefined>;

/** Probes and scrapes would drown the useful spans. */
export const UNTRACED_ROUTES: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics']);

export function telemetryEnabled(env: Env = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return false;
  if ((env.OTEL_TRACES_EXPORTER ?? '').toLowerCase() === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export async function startTelemetry(options: { serviceVersion?: string; instanceId?: string } = {}, env: Env = process.env): Promise<Telemetry> {
  if (!telemetryEnabled(env)) return { enabled: false, traceRoute: () => undefined, shutdown: async () => undefined };

  const [api, { OTLPTraceExporter }, { PgInstrumentation }, { PinoInstrumentation }, resources, { NodeSDK }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-pino'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-node'),
  ]);
  const { defaultResource, envDetector, hostDetector, osDetector, processDetector, resourceFromAttributes } = resources;
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['pino', 'pg'] } });

  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? 'reference-app',
    // Detected attributes (OTEL_RESOURCE_ATTRIBUTES) are merged over these, so the environment still wins.
    // No serviceInstanceIdDetector: its random UUID would hide INSTANCE_ID (the pod name).
    resourceDetectors: [processDetector, hostDetector, osDetector, envDetector],
    resource: defaultResource().merge(resourceFromAttributes({
      ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
      ...(options.instanceId ? { 'service.instance.id': options.instanceId } : {}),
    })),
    // The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT/HEADERS itself.
    traceExporter: new OTLPTraceExporter(),
    // Metrics are Prometheus (/metrics) and logs are stdout: do not start OTLP exporters for those.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      // requireParentSpan: the readiness probe's query every second is not a request's.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new PinoInstrumentation({ disableLogSending: true }),
    ],
  });
  sdk.start();

  const { context, propagation, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode } = api;
  const tracer = trace.getTracer('reference-app', options.serviceVersion);
  const traceRoute = (route: string): TraceRequest | undefined => {
    if (UNTRACED_ROUTES.has(route)) return undefined;
    return (request, response, next) => {
      const method = request.method ?? 'GET';
      // A caller's traceparent makes this span part of its trace.
      const parent = propagation.extract(ROOT_CONTEXT, request.headers);
      const span = tracer.startSpan(`${method} ${route}`, {
        kind: SpanKind.SERVER,
        // Stable HTTP semantic conventions, as instrumentation-http writes them.
        attributes: { 'http.request.method': method, 'http.route': route, 'url.path': (request.url ?? '').split('?')[0] ?? '', 'url.scheme': 'http' },
      }, parent);
      const active = trace.setSpan(parent, span);
      response.once('close', () => {
        span.setAttribute('http.response.status_code', response.statusCode);
        if (!response.writableEnded) span.setAttribute('error.type', 'aborted');
        else if (response.statusCode >= 500) span.setAttributes({ 'error.type': String(response.statusCode) }).setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
      // A body arrives in later events of the request stream, after this call has returned: bind them to
      // the span so the handler (and its queries and log lines) still runs in it. Requests without a body
      // (nearly all) do not need the event emitter patched.
      if (method !== 'GET' && method !== 'HEAD') context.bind(active, request);
      context.with(active, next);
    };
  };
  return { enabled: true, traceRoute, shutdown: () => sdk.shutdown() };
}
