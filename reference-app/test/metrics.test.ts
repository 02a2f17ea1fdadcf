// /metrics as a Prometheus scraper sees it: parsed text, route templates, labels, histogram buckets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresHandle } from './support/postgres.ts';
import { HTTP_DURATION_BUCKETS } from '../src/metrics.ts';
import { startAppFixture, type AppFixture } from './app-fixture.ts';
import { find, parsePrometheusText, type Exposition } from './prom-text.ts';

let db: PostgresHandle;
let fx: AppFixture;
let exposition: Exposition;
let contentType: string | undefined;

beforeAll(async () => {
  db = await startPostgres();
  fx = await startAppFixture(db.url);
  for (const id of [1, 2, 3]) await fx.app.inject(`/api/items/${id}`);
  await fx.app.inject('/api/items/100000');
  await fx.app.inject({ method: 'POST', url: '/api/orders', payload: { itemId: 1, quantity: 1 } });
  await fx.app.inject('/no/such/route/12345');
  await fx.app.inject('/api/cpu?ms=5');
  const res = await fx.app.inject('/metrics');
  contentType = String(res.headers['content-type']);
  exposition = parsePrometheusText(res.body);
});

afterAll(async () => {
  await fx?.close();
  await db?.stop();
});

describe('/metrics', () => {
  it('is Prometheus text', () => {
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(exposition.types.get('http_request_duration_seconds')).toBe('histogram');
    expect(exposition.types.get('http_requests_total')).toBe('counter');
    expect(exposition.types.get('http_requests_in_flight')).toBe('gauge');
  });

  it('counts by route template, method and status code, never the raw URL', () => {
    expect(find(exposition, 'http_requests_total', { method: 'GET', route: '/api/items/:id', status_code: '200' })[0]?.value).toBe(3);
    expect(find(exposition, 'http_requests_total', { method: 'GET', route: '/api/items/:id', status_code: '404' })[0]?.value).toBe(1);
    expect(find(exposition, 'http_requests_total', { method: 'POST', route: '/api/orders', status_code: '201' })[0]?.value).toBe(1);
    expect(find(exposition, 'http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' })[0]?.value).toBe(1);
    const routes = new Set(find(exposition, 'http_requests_total').map((s) => s.labels.route));
    for (const route of routes) expect(route).not.toMatch(/\d/);
  });

  it('has the duration histogram with the 200 ms-resolving buckets', () => {
    const buckets = find(exposition, 'http_request_duration_seconds_bucket', { route: '/api/items/:id', status_code: '200', method: 'GET' });
    const les = buckets.map((b) => b.labels.le);
    expect(les).toEqual([...HTTP_DURATION_BUCKETS.map(String), '+Inf']);
    expect(les).toContain('0.2');
    expect(buckets.at(-1)?.value).toBe(3);
    const count = find(exposition, 'http_request_duration_seconds_count', { route: '/api/items/:id', status_code: '200' })[0];
    expect(count?.value).toBe(3);
  });

  it('reports the version and no request left in flight', () => {
    expect(find(exposition, 'app_info', { version: '9.9.9-test' })[0]?.value).toBe(1);
    // The scrape itself is the only request in flight while the registry renders.
    expect(find(exposition, 'http_requests_in_flight')[0]?.value).toBe(1);
  });

  it('includes the default process metrics', () => {
    expect(find(exposition, 'process_cpu_user_seconds_total')).toHaveLength(1);
    expect(find(exposition, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
  });
});
