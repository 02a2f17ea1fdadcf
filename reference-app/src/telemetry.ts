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
//
// The SDK is put together from its parts (the trace SDK, the OTLP/HTTP exporter, the async-hooks context,
// the W3C propagators) rather than @opentelemetry/sdk-node, whose import graph loads every exporter it can
// be configured for (gRPC, protobuf, Zipkin, Prometheus, logs, metrics): that cost a traced replica 0.17 of
// its 0.75 CPU-seconds at start, which 17 replicas starting at once in a spike take from the ones serving
// it (bench/RESULTS.md, the reference service's fourth pass). What sdk-node would read from the environment for traces is read here: the
// sampler (OTEL_TRACES_SAMPLER[_ARG]) and the batch processor (OTEL_BSP_*).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { register } from 'node:module';
import type * as SdkTraceModule from '@opentelemetry/sdk-trace';
import type { Sampler } from '@opentelemetry/sdk-trace';

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

  const [api, { OTLPTraceExporter }, { PgInstrumentation }, { PinoInstrumentation }, resources, sdkTrace, { AsyncLocalStorageContextManager }, core, { registerInstrumentations }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-pino'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/instrumentation'),
  ]);
  const { defaultResource, detectResources, envDetector, hostDetector, osDetector, processDetector, resourceFromAttributes } = resources;
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['pino', 'pg'] } });

  // Detected attributes (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME) are merged over these, so the environment
  // still wins. No serviceInstanceIdDetector: its random UUID would hide INSTANCE_ID (the pod name).
  const resource = defaultResource()
    .merge(resourceFromAttributes({
      'service.name': env.OTEL_SERVICE_NAME ?? 'reference-app',
      ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
      ...(options.instanceId ? { 'service.instance.id': options.instanceId } : {}),
    }))
    .merge(detectResources({ detectors: [processDetector, hostDetector, osDetector, envDetector] }));
  const provider = new sdkTrace.TracerProvider({
    resource,
    sampler: samplerFromEnv(env, sdkTrace),
    spanProcessors: [new sdkTrace.BatchSpanProcessor({
      // The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT/HEADERS itself; the batching knobs are ours to read.
      exporter: new OTLPTraceExporter(),
      ...batchOptionsFromEnv(env),
    })],
  });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(new core.CompositePropagator({ propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()] }));
  api.trace.setGlobalTracerProvider(provider);
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // requireParentSpan: the readiness probe's query every second is not a request's.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new PinoInstrumentation({ disableLogSending: true }),
    ],
  });

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
      // A request the sampler left out has a span context (its logs keep the trace id) but nothing to record.
      if (span.isRecording()) response.once('close', () => {
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
  return { enabled: true, traceRoute, shutdown: () => provider.shutdown() };
}

type SdkTrace = typeof SdkTraceModule;
type SamplerKinds = Pick<SdkTrace, 'AlwaysOnSampler' | 'AlwaysOffSampler' | 'ParentBasedSampler' | 'TraceIdRatioBasedSampler'>;

/**
 * The head sampler OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG name (the specification's values; what
 * sdk-node would read), or undefined for the SDK's default (parent-based, always on). A request that is not
 * sampled still gets a span context, so its log lines keep their trace_id (with trace_flags 00); it just
 * records and exports nothing.
 */
export function samplerFromEnv(env: Env, sdk: SamplerKinds): Sampler | undefined {
  const name = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase();
  if (!name) return undefined;
  const ratio = (): number => {
    const value = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '');
    // The specification's default for a missing or unusable ratio is 1.0: sample everything.
    return env.OTEL_TRACES_SAMPLER_ARG?.trim() && Number.isFinite(value) && value >= 0 && value <= 1 ? value : 1;
  };
  switch (name) {
    case 'always_on': return new sdk.AlwaysOnSampler();
    case 'always_off': return new sdk.AlwaysOffSampler();
    case 'traceidratio': return new sdk.TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_on': return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() });
    case 'parentbased_always_off': return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(ratio()) });
    default: return undefined;
  }
}

/** OTEL_BSP_*: the batch span processor's queue, batch and delay, as the specification names them. */
function batchOptionsFromEnv(env: Env): { maxQueueSize?: number; maxExportBatchSize?: number; scheduledDelayMillis?: number; exportTimeoutMillis?: number } {
  const read = (name: string): number | undefined => {
    const value = Number(env[name] ?? '');
    return env[name]?.trim() && Number.isFinite(value) && value >= 0 ? value : undefined;
  };
  const entries = {
    maxQueueSize: read('OTEL_BSP_MAX_QUEUE_SIZE'),
    maxExportBatchSize: read('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
    scheduledDelayMillis: read('OTEL_BSP_SCHEDULE_DELAY'),
    exportTimeoutMillis: read('OTEL_BSP_EXPORT_TIMEOUT'),
  };
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
}
