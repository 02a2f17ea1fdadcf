// OpenTelemetry tracing: HTTP, Fastify, pg and pino (trace_id/span_id in every log line), exported over
// OTLP/HTTP. Configured only by the standard OTEL_* variables and entirely off (no SDK, no hooks, not even
// loaded) unless an OTLP endpoint is set: the SDK and its instrumentations are ~14 MB of heap and ~1 s of
// start-up on a small core, which a replica that does not trace should not carry into every GC.
//
// ESM matters here: instrumentations patch modules as they load, so this must run before fastify, pg and
// pino are imported (server.ts imports the rest of the app dynamically, after start). pg and fastify are
// reached through CommonJS require() and are caught by require-in-the-middle, but our own `import pino`
// is an ES import, which only the import-in-the-middle loader hook can see; it is registered for pino and
// pg only, so the rest of the module graph loads untouched.
import { register } from 'node:module';

export interface Telemetry {
  readonly enabled: boolean;
  /** Flush pending spans and stop; safe to call when disabled. */
  shutdown(): Promise<void>;
}

type Env = Record<string, string | undefined>;

/** Probes and scrapes would drown the useful spans. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/metrics']);

export function telemetryEnabled(env: Env = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return false;
  if ((env.OTEL_TRACES_EXPORTER ?? '').toLowerCase() === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export async function startTelemetry(options: { serviceVersion?: string; instanceId?: string } = {}, env: Env = process.env): Promise<Telemetry> {
  if (!telemetryEnabled(env)) return { enabled: false, shutdown: async () => undefined };

  const [{ FastifyOtelInstrumentation }, { OTLPTraceExporter }, { HttpInstrumentation }, { PgInstrumentation }, { PinoInstrumentation }, resources, { NodeSDK }] =
    await Promise.all([
      import('@fastify/otel'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/instrumentation-http'),
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
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0] ?? ''),
      }),
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        ignorePaths: ({ url }: { url: string }) => UNTRACED_PATHS.has(url),
      }),
      new PgInstrumentation({ requireParentSpan: true }),
      new PinoInstrumentation({ disableLogSending: true }),
    ],
  });
  sdk.start();
  return { enabled: true, shutdown: () => sdk.shutdown() };
}
