// STAND-IN for the reference service, for the local cluster's own tests only: a dependency-free node:http
// server with the same contract (env PORT, HOST, APP_VERSION, INSTANCE_ID, DRAIN_DELAY_MS; /health, /ready,
// /metrics, GET /api/cpu?ms=N; x-app-version and x-instance-id headers; on SIGTERM readiness turns 503 at
// once, requests are served for DRAIN_DELAY_MS, then the server closes and exits 0). It needs no database.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const version = process.env.APP_VERSION ?? 'v1';
const instance = process.env.INSTANCE_ID ?? `stand-in-${process.pid}`;
const drainDelayMs = Number(process.env.DRAIN_DELAY_MS ?? 0);

const bucketsS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const bucketCounts = bucketsS.map(() => 0);
let durationSum = 0;
let requestCount = 0;
const requestsByStatus = new Map<number, number>();
let draining = false;

function observe(seconds: number, status: number): void {
  bucketsS.forEach((le, i) => {
    if (seconds <= le) bucketCounts[i] = (bucketCounts[i] ?? 0) + 1;
  });
  durationSum += seconds;
  requestCount++;
  requestsByStatus.set(status, (requestsByStatus.get(status) ?? 0) + 1);
}

function metricsText(): string {
  const lines = ['# TYPE http_request_duration_seconds histogram'];
  bucketsS.forEach((le, i) => lines.push(`http_request_duration_seconds_bucket{le="${le}"} ${bucketCounts[i] ?? 0}`));
  lines.push(`http_request_duration_seconds_bucket{le="+Inf"} ${requestCount}`);
  lines.push(`http_request_duration_seconds_sum ${durationSum}`, `http_request_duration_seconds_count ${requestCount}`);
  lines.push('# TYPE http_requests_total counter');
  for (const [status, count] of requestsByStatus) lines.push(`http_requests_total{status="${status}"} ${count}`);
  return lines.join('\n') + '\n';
}

const server = createServer((req, res) => {
  const started = process.hrtime.bigint();
  const url = new URL(req.url ?? '/', 'http://stand-in');
  res.setHeader('x-app-version', version);
  res.setHeader('x-instance-id', instance);
  const reply = (status: number, body: string, type = 'text/plain') => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
    if (url.pathname.startsWith('/api/')) observe(Number(process.hrtime.bigint() - started) / 1e9, status);
  };
  switch (url.pathname) {
    case '/health':
      return reply(200, 'ok');
    case '/ready':
      return draining ? reply(503, 'draining') : reply(200, 'ready');
    case '/metrics':
      return reply(200, metricsText(), 'text/plain; version=0.0.4');
    case '/api/cpu': {
      const ms = Math.min(Number(url.searchParams.get('ms') ?? 10), 1000);
      const until = Date.now() + ms;
      while (Date.now() < until) {
        // burn CPU on purpose: this is what the autoscaler measures
      }
      return reply(200, JSON.stringify({ version, instance, ms }), 'application/json');
    }
    default:
      return reply(404, 'not found');
  }
});
server.keepAliveTimeout = 5_000;
server.listen(port, host);

process.on('SIGTERM', () => {
  draining = true;
  setTimeout(() => {
    // This file is a service's own entry point, not harness code: ending its process is its job.
    // eslint-disable-next-line no-restricted-properties
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    // A slow client must not hold the pod past its grace period.
    // eslint-disable-next-line no-restricted-properties
    setTimeout(() => process.exit(0), 2_000).unref();
  }, drainDelayMs);
});
