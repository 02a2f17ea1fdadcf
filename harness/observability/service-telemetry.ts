// The OpenTelemetry environment the harness gives the service it deploys: where to send traces (the
// harness's own OTLP receiver, as JSON it can count), and how many requests to trace. Shared with
// bench/reference-app.ts, so the bench measures the service as every run deploys it.
export function serviceTelemetryEnv(otlpUrl: string, traceSampleRatio: number): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'reference-app',
    // Parent-based: a caller that sampled its trace (a traceparent with the sampled flag) is always traced.
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: String(traceSampleRatio),
  };
}
