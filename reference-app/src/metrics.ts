// Prometheus metrics: the RED set per route template (never the raw URL, which would explode cardinality),
// in-flight requests, app_info{version}, log lines dropped, and prom-client's default process metrics.
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
  inFlight: Gauge;
}

export interface MetricSources {
  /** Log lines dropped because stdout stopped draining (logger.ts). */
  droppedLogLines?: () => number;
}

export function createMetrics(appVersion: string, sources: MetricSources = {}): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by route template',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
  new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by route template',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
    // The same number as the histogram's _count for the same labels, so it is read from there at scrape
    // time instead of being counted a second time on every request.
    async collect() {
      const { values } = await httpDuration.get();
      this.reset();
      for (const sample of values) {
        if (sample.metricName === 'http_request_duration_seconds_count') this.inc(sample.labels as Partial<Record<HttpLabels, string>>, sample.value);
      }
    },
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
  const { droppedLogLines } = sources;
  if (droppedLogLines) {
    new Counter({
      name: 'log_lines_dropped_total',
      help: 'Log lines dropped because stdout did not drain (the log queue was full)',
      registers: [registry],
      // Read at scrape time: the logger keeps the running total.
      collect() {
        this.reset();
        this.inc(droppedLogLines());
      },
    });
  }
  return { registry, httpDuration, inFlight };
}

export function instrumentHttp(app: FastifyInstance, metrics: AppMetrics): void {
  // Callback-style hooks: they run on every request, and avoid a promise per hook per request.
  const requestEnded = (): void => {
    metrics.inFlight.dec();
  };
  app.addHook('onRequest', (_request, reply, done) => {
    metrics.inFlight.inc();
    // 'close' fires exactly once per response, whether it finished or the client went away mid-request
    // (so `on`, without the wrapper `once` allocates; the response object is dropped afterwards).
    reply.raw.on('close', requestEnded);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status_code: String(reply.statusCode),
    };
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
}
