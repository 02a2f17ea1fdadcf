import { describe, expect, it } from 'vitest';
import { LoadRecordSchema } from '../contract/timeline.ts';
import { decodeHistogram, percentileMs } from '../contract/histogram.ts';
import { LoadAggregator } from './aggregator.ts';
import { checkHeader, MalformedOutputError, rowToSink } from './k6/csv.ts';
import { errorKindOf } from './k6/errors.ts';

const T0 = 1_796_000_000_000;

describe('LoadAggregator (engine-neutral samples)', () => {
  it('folds samples into contiguous per-second records, holding only open seconds', () => {
    const aggregator = new LoadAggregator({ source: 'embedded', step: 'growth', targetRate: (t) => (t - T0) / 1000 + 1 });
    aggregator.request({ t: T0 + 10, latencyMs: 5, status: 200, name: 'GET /api/items/:id', failure: null, version: 'v1', instance: 'pod-a' });
    aggregator.request({ t: T0 + 20, latencyMs: 7, status: 200, name: 'GET /api/items/:id', failure: null, version: 'v2', instance: 'pod-b' });
    aggregator.request({ t: T0 + 900, latencyMs: 30, status: 503, name: 'POST /api/orders', failure: '5xx' });
    aggregator.note(T0 + 900, 'check failed');
    aggregator.iterations(T0 + 950, 1);
    aggregator.dropped(T0 + 999, 2);
    // nothing in T0+1000..1999: an empty second, still written
    aggregator.request({ t: T0 + 2500, latencyMs: 0, status: 0, name: 'GET /api/cpu', failure: 'connection refused' });
    aggregator.tick(T0 + 3100);
    expect(aggregator.openSeconds).toBe(3);
    expect(aggregator.closeBefore(T0 + 999)).toEqual([]); // second 0 is not over yet
    const first = aggregator.closeBefore(T0 + 1999).map((c) => c.record);
    expect(first.map((r) => r.t)).toEqual([T0]);
    expect(first[0]).toMatchObject({
      kind: 'load', source: 'embedded', step: 'growth', requests: 3, failed: 1, status: { 200: 2, 503: 1 },
      errors: { '5xx': 1, 'check failed': 1 }, versions: { v1: 1, v2: 1 }, instances: { 'pod-a': 1, 'pod-b': 1 },
      byName: { 'GET /api/items/:id': { requests: 2, failed: 0 }, 'POST /api/orders': { requests: 1, failed: 1 } },
      iterations: 1, dropped: 2, targetRate: 1,
    });
    expect(percentileMs(decodeHistogram(first[0]!.latencyUs), 100)).toBeCloseTo(30, 1);
    const rest = aggregator.closeAll().map((c) => c.record);
    expect(rest.map((r) => r.t - T0)).toEqual([1000, 2000, 3000]);
    expect(rest[0]).toMatchObject({ requests: 0, failed: 0, targetRate: 2 });
    expect(rest[1]).toMatchObject({ requests: 1, failed: 1, status: { 0: 1 }, errors: { 'connection refused': 1 } });
    for (const r of [...first, ...rest]) expect(LoadRecordSchema.safeParse(r).success).toBe(true);
    expect(aggregator.openSeconds).toBe(0);
  });

  it('counts a sample that arrives after its second was written in the oldest open second', () => {
    const aggregator = new LoadAggregator({ source: 'embedded' });
    aggregator.request({ t: T0 + 100, latencyMs: 1, status: 200, name: 'x', failure: null });
    aggregator.request({ t: T0 + 1100, latencyMs: 1, status: 200, name: 'x', failure: null });
    expect(aggregator.closeBefore(T0 + 1500).map((c) => c.record.requests)).toEqual([1]);
    aggregator.request({ t: T0 + 200, latencyMs: 1, status: 200, name: 'x', failure: null });
    const rest = aggregator.closeAll().map((c) => c.record);
    expect(rest).toHaveLength(1);
    expect(rest[0]).toMatchObject({ t: T0 + 1000, requests: 2 });
    expect(rest[0]!.targetRate).toBeUndefined();
    expect(aggregator.lateSamples).toBe(1);
  });
});

describe('k6 rows -> samples', () => {
  const row = (metric: string, t: number, value: string, tags: Record<string, string> = {}) =>
    ({ metric_name: metric, timestamp: String(t), metric_value: value, check: '', error_code: '', expected_response: '', name: '', status: '', extra_tags: '', metadata: '', ...tags });

  it('takes a request from each http_req_duration row, and counts k6 reports apart', () => {
    const aggregator = new LoadAggregator({ source: 'k6' });
    rowToSink(row('http_reqs', T0 + 5, '1.000000', { name: 'GET /api/cpu', status: '200', expected_response: 'true' }), aggregator);
    rowToSink(row('http_req_duration', T0 + 5, '12.500000', { name: 'GET /api/cpu', status: '200', expected_response: 'true' }), aggregator);
    rowToSink(row('http_req_duration', T0 + 6, '5000.1', { name: 'GET /api/cpu', status: '0', error_code: '1050', expected_response: 'false' }), aggregator);
    rowToSink(row('http_req_failed', T0 + 6, '1.000000', { name: 'GET /api/cpu', status: '0', error_code: '1050', expected_response: 'false' }), aggregator);
    rowToSink(row('app_responses', T0 + 7, '1.000000', { extra_tags: 'version=v1&instance=pod-a' }), aggregator);
    rowToSink(row('dropped_iterations', T0 + 8, '3'), aggregator);
    rowToSink(row('checks', T0 + 9, '0.000000', { check: 'status 200' }), aggregator);
    const [record] = aggregator.closeAll().map((c) => c.record);
    expect(record).toMatchObject({ requests: 2, failed: 1, status: { 200: 1, 0: 1 }, errors: { timeout: 1, 'check failed': 1 }, versions: { v1: 1 }, instances: { 'pod-a': 1 }, dropped: 3 });
    expect(() => rowToSink(row('http_reqs', Number.NaN, '1'), aggregator)).toThrow(MalformedOutputError);
    expect(() => checkHeader(['time', 'value'])).toThrow(MalformedOutputError);
    expect(() => checkHeader(['metric_name', 'timestamp', 'metric_value', 'status'])).not.toThrow();
  });

  it('names failure kinds from k6 error codes and statuses', () => {
    expect(errorKindOf(0, '1050')).toBe('timeout');
    expect(errorKindOf(0, '1211')).toBe('timeout');
    expect(errorKindOf(0, '1212')).toBe('connection refused');
    expect(errorKindOf(0, '1220')).toBe('connection reset');
    expect(errorKindOf(0, '1101')).toBe('dns');
    expect(errorKindOf(502, '1502')).toBe('5xx');
    expect(errorKindOf(404, '1404')).toBe('4xx');
    expect(errorKindOf(0, '')).toBe('no response');
  });
});
