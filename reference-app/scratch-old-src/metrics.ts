// Prometheus metrics: the RED set per route template (never the raw URL, which would explode cardinality),
// in-flight requests, app_info{version}, and prom-client's default process metrics.
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Dense around 100-300 ms so a 200 ms p95 objective is resolved, not interpolated across a wide bucket.
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 0.75, 1, 2.5, 5];

/** The `route` label of requests no route matched (404s), so scanners cannot mint new series. */
export const UNMATCHED_ROUTE = 'unmatched';

type HttpLabels = 'method' | 'route' | 'status_code';

export interface AppMetrics {
  registry: Registry;
  httpDuration: Histogram<HttpLabels>;
  httpRequests: Counter<HttpLabels>;
  inFlight: Gauge;
}

export function createMetrics(appVersion: string): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by route template',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by route template',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'http_requests_in_flight',
    help: 'HTTP requests being served right now',
    registers: [registry],
  });
  const info = new Gauge({
    name: 'app_info',
    help: 'Always 1; the version label says which build answers',
    labelNames: ['version'] as const,
    registers: [registry],
  });
  info.set({ version: appVersion }, 1);
  return { registry, httpDuration, httpRequests, inFlight };
}

export function instrumentHttp(app: FastifyInstance, metrics: AppMetrics): void {
  // Callback-style hooks: they run on every request, and avoid a promise per hook per request.
  const requestEnded = (): void => {
    metrics.inFlight.dec();
  };
  app.addHook('onRequest', (_request, reply, done) => {
    metrics.inFlight.inc();
    // 'close' fires exactly once, whether the response finished or the client went away mid-request.
    reply.raw.once('close', requestEnded);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status_code: String(reply.statusCode),
    };
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    metrics.httpRequests.inc(labels);
    done();
  });
}
