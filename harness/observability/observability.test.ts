import { describe, expect, it } from 'vitest';
import { checkLogLines, checkMetricsText, checkTraces } from './checks.ts';
import { startOtlpReceiver } from './otlp-receiver.ts';
import { startSelfTracing, withSpan } from '../self-tracing.ts';

describe('observability checks', () => {
  it.each([
    ['both series present', 'http_request_duration_seconds_bucket{le="0.1",route="/x"} 3\nhttp_requests_total{route="/x"} 3\n', true],
    ['request counter missing', 'http_request_duration_seconds_bucket{le="0.1"} 3\n', false],
    ['only comments', '# HELP http_requests_total x\n# TYPE http_requests_total counter\n', false],
  ])('metrics: %s', (_name, text, ok) => {
    expect(checkMetricsText(text).ok).toBe(ok);
  });

  it.each([
    ['JSON with trace ids', ['{"msg":"a","trace_id":"abc"}', '{"msg":"b"}'], true],
    ['JSON without any trace id', ['{"msg":"a"}', '{"msg":"b"}'], false],
    ['plain text lines', ['started on port 8080', '{"msg":"a","trace_id":"abc"}'], false],
    ['no lines at all', [], false],
  ])('logs: %s', (_name, lines, ok) => {
    expect(checkLogLines(lines).ok).toBe(ok);
  });

  it('traces: absent receiver, no spans, spans', () => {
    expect(checkTraces(null).ok).toBe(false);
    expect(checkTraces({ batches: 0, spans: 0, services: {}, spanNames: {} }).ok).toBe(false);
    expect(checkTraces({ batches: 1, spans: 4, services: { 'reference-app': 4 }, spanNames: {} }).ok).toBe(true);
  });
});

describe('the harness traces its own run', () => {
  it('exports a span per phase to the OTLP endpoint it is given, and nothing without one', async () => {
    expect(await startSelfTracing({})).toBeNull();
    const receiver = await startOtlpReceiver();
    try {
      const tracing = await startSelfTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'slo-harness-test' });
      expect(tracing).not.toBeNull();
      await withSpan('cluster.up', async () => undefined);
      await expect(withSpan('step.spike', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
      await tracing!.shutdown();
      const stats = receiver.stats();
      expect(stats.services['slo-harness-test']).toBe(2);
      expect(Object.keys(stats.spanNames).sort()).toEqual(['cluster.up', 'step.spike']);
    } finally {
      await receiver.close();
    }
  });
});
