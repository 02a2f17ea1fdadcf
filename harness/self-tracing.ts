// The harness traces its own run (a span per phase) when an OTLP endpoint is set, so a slow or failing
// nightly run can be read in the same tracing backend as the service. Without OTEL_* variables the API is a
// no-op and nothing is exported.
import { trace, SpanStatusCode } from '@opentelemetry/api';
import { HARNESS_VERSION } from './version.ts';

const tracer = trace.getTracer('slo-harness', HARNESS_VERSION);

export async function withSpan<T>(name: string, work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

export interface SelfTracing {
  shutdown(): Promise<void>;
}

/** Starts the OpenTelemetry SDK for the harness process when the standard OTLP variables ask for it. */
export async function startSelfTracing(env: NodeJS.ProcessEnv = process.env): Promise<SelfTracing | null> {
  if (!env['OTEL_EXPORTER_OTLP_ENDPOINT'] && !env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) return null;
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  // The standard rule: a signal-specific endpoint is used as is, the general one gets /v1/traces appended.
  const url = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? `${(env['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? '').replace(/\/+$/, '')}/v1/traces`;
  const sdk = new NodeSDK({ serviceName: env['OTEL_SERVICE_NAME'] ?? 'slo-harness', traceExporter: new OTLPTraceExporter({ url }), instrumentations: [] });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
