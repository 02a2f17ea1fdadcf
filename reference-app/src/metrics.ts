// Prometheus metrics: the RED set per route template (never the raw URL, which would explode cardinality),
// in-flight requests, app_info{version}, log lines dropped, and prom-client's default process metrics.
//
// Per request this costs two numbers and one bucket increment, nothing more: the request's route template
// is bound when the route is registered (app.ts), its series (method, route, status code) is an object
// found by two map lookups, and the in-flight count is a plain number read at scrape time. prom-client
// renders everything; the duration histogram is counted here rather than by prom-client's Histogram, whose
// observe() validates the label set, builds a string key from it and looks the series up by that string on
// every call: about 1 us a request in a CPU profile under load, most of what metrics cost a request.
import type { ServerResponse } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric, type MetricValueWithName } from 'prom-client';

// Dense around 100-300 ms so a 200 ms p95 objective is resolved, not interpolated across a wide bucket.
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 0.75, 1, 2.5, 5];

/** The `route` label of requests no route matched (404s), so scanners cannot mint new series. */
export const UNMATCHED_ROUTE = 'unmatched';

type HttpLabels = 'method' | 'route' | 'status_code';
type HttpLabelValues = Readonly<Record<HttpLabels, string>>;

/** One route template's requests (UNMATCHED_ROUTE for 404s). */
export interface RouteMetrics {
  /** Count the request in flight, and time it, until its response closes. Once per request, on arrival. */
  requestStarted(response: ServerResponse, method: string): void;
}

export interface AppMetrics {
  registry: Registry;
  /** The metrics of one route template; made once per route when it is registered, not per request. */
  route(template: string): RouteMetrics;
}

export interface MetricSources {
  /** Log lines dropped because stdout stopped draining (logger.ts). */
  droppedLogLines?: () => number;
}

/** One series of the duration histogram: counts per bucket (not cumulative), sum and count. */
class DurationSeries {
  readonly counts = new Float64Array(HTTP_DURATION_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  constructor(readonly labels: HttpLabelValues) {}

  observe(seconds: number): void {
    let bucket = 0;
    while (bucket < HTTP_DURATION_BUCKETS.length && seconds > (HTTP_DURATION_BUCKETS[bucket] as number)) bucket++;
    this.counts[bucket] = (this.counts[bucket] as number) + 1;
    this.sum += seconds;
    this.count++;
  }
}

/**
 * http_request_duration_seconds. A prom-client metric in all but the class: the registry renders (and
 * resets) any metric with get() and reset(), and get() returns what prom-client's own Histogram returns,
 * so the exposition is byte for byte the same.
 */
class DurationHistogram {
  readonly name = 'http_request_duration_seconds';
  readonly help = 'HTTP request duration in seconds, by route template';
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly series: DurationSeries[] = [];

  newSeries(labels: HttpLabelValues): DurationSeries {
    const series = new DurationSeries(labels);
    this.series.push(series);
    return series;
  }

  // What prom-client's Histogram#get() returns (its typings say `type` is an enum; at run time it is this string).
  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: MetricValueWithName<string>[] }> {
    const values: MetricValueWithName<string>[] = [];
    for (const { labels, counts, sum, count } of this.series) {
      let cumulative = 0;
      HTTP_DURATION_BUCKETS.forEach((le, i) => {
        cumulative += counts[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...labels }, value: sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...labels }, value: count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    for (const series of this.series) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}

const SERIES = Symbol('series');
const METHOD = Symbol('method');
const STARTED = Symbol('started');

interface TrackedResponse extends ServerResponse {
  [SERIES]: RouteSeries;
  [METHOD]: string;
  [STARTED]: number;
}

/** A route template's series, one per method and status code, made on first use and reused after. */
class RouteSeries implements RouteMetrics {
  private readonly byMethod = new Map<string, Map<number, DurationSeries>>();

  constructor(
    private readonly template: string,
    private readonly histogram: DurationHistogram,
    private readonly started: (response: TrackedResponse) => void,
  ) {}

  requestStarted(response: ServerResponse, method: string): void {
    const tracked = response as TrackedResponse;
    tracked[SERIES] = this;
    tracked[METHOD] = method;
    tracked[STARTED] = performance.now();
    this.started(tracked);
  }

  seriesFor(method: string, status: number): DurationSeries {
    let byStatus = this.byMethod.get(method);
    if (!byStatus) this.byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) byStatus.set(status, (series = this.histogram.newSeries({ method, route: this.template, status_code: String(status) })));
    return series;
  }
}

export function createMetrics(appVersion: string, sources: MetricSources = {}): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new DurationHistogram();
  registry.registerMetric(httpDuration as unknown as Metric);
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
  // A plain number, read at scrape time: two prom-client updates per request (each hashing its empty label
  // set) cost more than the gauge is worth between scrapes.
  let inFlight = 0;
  new Gauge({
    name: 'http_requests_in_flight',
    help: 'HTTP requests being served right now',
    registers: [registry],
    collect() {
      this.set(inFlight);
    },
  });
  // 'close' fires exactly once per response, whether it finished or the client went away mid-request, so
  // one listener (shared by every request; the response carries its series and start time) both ends the
  // in-flight count and records the duration: no Fastify onResponse hook, no closure per request.
  function requestEnded(this: TrackedResponse): void {
    inFlight--;
    // A client that left before the response was ended was not served: not a request of this series.
    if (!this.writableEnded) return;
    this[SERIES].seriesFor(this[METHOD], this.statusCode).observe((performance.now() - this[STARTED]) / 1000);
  }
  const started = (response: TrackedResponse): void => {
    inFlight++;
    // `on`, not `once`: once allocates a wrapper, and the response object is dropped afterwards anyway.
    response.on('close', requestEnded);
  };
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
  return { registry, route: (template) => new RouteSeries(template, httpDuration, started) };
}
