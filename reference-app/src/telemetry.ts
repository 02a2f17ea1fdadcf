// OpenTelemetry tracing: a server span per request and a span per SQL statement under it, and
// trace_id/span_id in every log line a request writes, exported over OTLP/HTTP. Configured only by the
// standard OTEL_* variables and entirely off (no SDK, not even loaded) unless an OTLP endpoint is set: a
// replica that does not trace should not carry the SDK's modules into every GC.
//
// Two spans a request, made here with the trace API rather than by instrumentations. The server span is
// started by the route's own onRequest hook (app.ts), named after the route template
// (`GET /api/items/:id`), honours a caller's `traceparent`, and is ended by the response's 'close'. The
// request carries its trace explicitly (request-trace.ts): the database functions (db.ts) time each
// statement under it, named and attributed as @opentelemetry/instrumentation-pg names them
// (`pg.query:SELECT app`, `db.query.text`, `db.namespace`, `server.address`...), and the request's logger
// adds its ids (logger.ts), under the keys @opentelemetry/instrumentation-pino used.
//
// What this replaced, and why (bench/RESULTS.md, the reference service's passes):
// - @fastify/otel and @opentelemetry/instrumentation-http (third pass): five spans where two do, three more
//   Fastify hooks on every request, the probes included, and every request's event emitters patched.
// - The SDK assembled by @opentelemetry/sdk-node (fourth pass), whose import graph loads every exporter it
//   can be configured for: 0.17 of a traced replica's 0.75 CPU-seconds at start.
// - The ambient context and the pg and pino instrumentations (fifth pass). On Node 20 the context manager
//   is an AsyncLocalStorage: once entered, its async hook writes the store onto every promise and async
//   resource the process creates, traced request or not, and instrumentation-pg started a (non-recording)
//   span for every statement of every request the sampler left out. Without them a traced replica's
//   `/api/items/:id` costs 64.5 us of CPU under load instead of 72.0 (untraced: 60.2), and it starts on
//   0.41 CPU-seconds instead of 0.58: no import-in-the-middle loader hook (a hooks thread through which pino
//   and pg loaded) and four packages fewer. It also logged a pool's 'error' (an idle connection dropped)
//   with the trace id of whichever request had opened that connection.
// Probes and scrapes (/health, /ready, /metrics) get no span; nor does a pool checkout: a checkout of an
// idle connection is a microsecond, and a slow one shows as the gap before the statement's span.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as SdkTraceModule from '@opentelemetry/sdk-trace';
import type { Sampler } from '@opentelemetry/sdk-trace';
import type { TraceSamplerName } from './config.ts';
import { attachTrace, type DatabasePeer, type EndStatement, type RequestTrace } from './request-trace.ts';

/** Starts a request's server span and attaches the request's trace to it (request-trace.ts). */
export type TraceRequest = (request: IncomingMessage, response: ServerResponse) => void;

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

  const [api, { OTLPTraceExporter }, resources, sdkTrace, { W3CTraceContextPropagator }, semconv] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/core'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  const { defaultResource, detectResources, envDetector, hostDetector, osDetector, processDetector, resourceFromAttributes } = resources;

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
  // Nothing global is registered (no context manager, propagator or tracer provider): the trace travels
  // with the request, and nothing else in the service reads an ambient one.
  const propagator = new W3CTraceContextPropagator();
  const { trace, ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter } = api;
  const tracer = provider.getTracer('reference-app', options.serviceVersion);

  type Span = ReturnType<typeof tracer.startSpan>;
  class SpanTrace implements RequestTrace {
    readonly recording: boolean;
    private parent: ReturnType<typeof trace.setSpan> | undefined;

    constructor(private readonly span: Span) {
      this.recording = span.isRecording();
    }

    logFields(): Readonly<Record<string, string>> {
      const { traceId, spanId, traceFlags } = this.span.spanContext();
      return { trace_id: traceId, span_id: spanId, trace_flags: `0${traceFlags.toString(16)}` };
    }

    statement(text: string, peer: DatabasePeer): EndStatement {
      this.parent ??= trace.setSpan(ROOT_CONTEXT, this.span);
      const span = tracer.startSpan(statementSpanName(text, peer.namespace), {
        kind: SpanKind.CLIENT,
        attributes: {
          [semconv.ATTR_DB_SYSTEM_NAME]: semconv.DB_SYSTEM_NAME_VALUE_POSTGRESQL,
          [semconv.ATTR_DB_NAMESPACE]: peer.namespace,
          [semconv.ATTR_SERVER_ADDRESS]: peer.address,
          [semconv.ATTR_SERVER_PORT]: peer.port,
          [semconv.ATTR_DB_QUERY_TEXT]: text,
        },
      }, this.parent);
      return (error?: unknown) => {
        if (error !== undefined) {
          const code = (error as { code?: unknown } | null)?.code;
          if (typeof code === 'string') span.setAttribute(semconv.ATTR_ERROR_TYPE, code);
          if (error instanceof Error) span.recordException(error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        }
        span.end();
      };
    }
  }

  const traceRoute = (route: string): TraceRequest | undefined => {
    if (UNTRACED_ROUTES.has(route)) return undefined;
    return (request, response) => {
      const method = request.method ?? 'GET';
      // A caller's traceparent makes this span part of its trace (and its sampled flag decides ours).
      const parent = propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
      // Attributes are set once the span records: the samplers the environment can choose decide on the
      // trace id alone, and a request left out (nine in ten) should not build and sanitise them.
      const span = tracer.startSpan(`${method} ${route}`, { kind: SpanKind.SERVER }, parent);
      // A request the sampler left out has a span context (its logs keep the trace id) but nothing to record.
      if (span.isRecording()) {
        // Stable HTTP semantic conventions, as instrumentation-http writes them.
        span.setAttributes({
          [semconv.ATTR_HTTP_REQUEST_METHOD]: method,
          [semconv.ATTR_HTTP_ROUTE]: route,
          [semconv.ATTR_URL_PATH]: (request.url ?? '').split('?')[0] ?? '',
          [semconv.ATTR_URL_SCHEME]: 'http',
        });
        response.once('close', () => {
          span.setAttribute(semconv.ATTR_HTTP_RESPONSE_STATUS_CODE, response.statusCode);
          if (!response.writableEnded) span.setAttribute(semconv.ATTR_ERROR_TYPE, 'aborted');
          else if (response.statusCode >= 500) span.setAttributes({ [semconv.ATTR_ERROR_TYPE]: String(response.statusCode) }).setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        });
      }
      attachTrace(request, new SpanTrace(span));
    };
  };
  return { enabled: true, traceRoute, shutdown: () => provider.shutdown() };
}

/** As @opentelemetry/instrumentation-pg names a statement's span: `pg.query:<first keyword> <database>`. */
export function statementSpanName(text: string, database: string | undefined): string {
  const trimmed = text.trimStart();
  const space = trimmed.search(/\s/);
  const keyword = (space === -1 ? trimmed : trimmed.slice(0, space)).toUpperCase().replace(/;$/, '');
  return `pg.query:${keyword}${database ? ` ${database}` : ''}`;
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
  // config.ts refuses any other name at start; the cases follow its list (the compiler checks they cover it).
  const known = name as TraceSamplerName;
  switch (known) {
    case 'always_on': return new sdk.AlwaysOnSampler();
    case 'always_off': return new sdk.AlwaysOffSampler();
    case 'traceidratio': return new sdk.TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_on': return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() });
    case 'parentbased_always_off': return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(ratio()) });
    default: {
      const unlisted: never = known; // a name added to TRACE_SAMPLERS without its case here fails to compile
      void unlisted;
      return undefined; // reached only by a caller that skipped config.ts: the SDK's default
    }
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
