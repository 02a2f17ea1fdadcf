// End-of-run checks that the service under test is observable: its /metrics carries the request series the
// server-side SLOs need, its logs are structured and carry trace ids, and it exported traces. Each result
// becomes an `observability` event, so the verdict is judged from the timeline like everything else.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TraceStats } from './otlp-receiver.ts';

export interface ObservabilityResult {
  signal: 'traces' | 'metrics' | 'logs';
  ok: boolean;
  detail: string;
}

const REQUIRED_SERIES = ['http_request_duration_seconds_bucket', 'http_requests_total'] as const;

export function checkMetricsText(text: string): ObservabilityResult {
  const missing = REQUIRED_SERIES.filter((name) => !new RegExp(`^${name}\\{`, 'm').test(text));
  return missing.length === 0
    ? { signal: 'metrics', ok: true, detail: `exposes ${REQUIRED_SERIES.join(', ')}` }
    : { signal: 'metrics', ok: false, detail: `missing series: ${missing.join(', ')}` };
}

export async function checkMetrics(baseUrl: string, signal?: AbortSignal): Promise<ObservabilityResult> {
  try {
    const response = await fetch(`${baseUrl}/metrics`, { signal: signal ?? AbortSignal.timeout(5000) });
    if (!response.ok) return { signal: 'metrics', ok: false, detail: `GET /metrics answered ${response.status}` };
    return checkMetricsText(await response.text());
  } catch (error) {
    return { signal: 'metrics', ok: false, detail: `GET /metrics failed: ${(error as Error).message}` };
  }
}

/** Structured means every non-empty line is a JSON object; traced means request logs carry a trace id. */
export function checkLogLines(lines: readonly string[]): ObservabilityResult {
  const nonEmpty = lines.filter((line) => line.trim() !== '');
  if (nonEmpty.length === 0) return { signal: 'logs', ok: false, detail: 'no log lines were written' };
  let json = 0;
  let withTrace = 0;
  for (const line of nonEmpty) {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (typeof entry !== 'object' || entry === null) continue;
      json += 1;
      if (typeof entry['trace_id'] === 'string' || typeof entry['traceId'] === 'string') withTrace += 1;
    } catch {
      // Not JSON: counted against structure below.
    }
  }
  const structuredShare = json / nonEmpty.length;
  const ok = structuredShare >= 0.99 && withTrace > 0;
  return {
    signal: 'logs',
    ok,
    detail: `${json}/${nonEmpty.length} lines are JSON, ${withTrace} carry a trace id`,
  };
}

/** Reads the logs of the service's own pods (`<pod>.log`), not those of the load balancer or Prometheus. */
export function checkLogFiles(logDir: string, pods: readonly string[]): ObservabilityResult {
  const files = existsSync(logDir) ? readdirSync(logDir).filter((name) => pods.includes(name.replace(/\.log$/, ''))) : [];
  if (files.length === 0) return { signal: 'logs', ok: false, detail: `no service logs under ${logDir}` };
  const lines = files.flatMap((name) => readFileSync(join(logDir, name), 'utf8').split('\n'));
  return checkLogLines(lines);
}

export function checkTraces(stats: TraceStats | null): ObservabilityResult {
  if (stats === null) return { signal: 'traces', ok: false, detail: 'this target gives the harness no way to receive traces' };
  if (stats.spans > 0) {
    const services = Object.keys(stats.services).join(', ');
    return { signal: 'traces', ok: true, detail: `${stats.spans} spans in ${stats.batches} batches from ${services}` };
  }
  return stats.batches > 0
    ? { signal: 'traces', ok: true, detail: `${stats.batches} OTLP batches received (not JSON, spans not counted)` }
    : { signal: 'traces', ok: false, detail: 'no OTLP traces arrived during the run' };
}
