import { describe, expect, it } from 'vitest';
import { LoadRecordSchema } from '../contract/timeline.ts';
import { LoadAggregator, errorKind } from './aggregator.ts';
import { decodeHistogram, percentileMs } from '../contract/histogram.ts';
import { K6CsvParser, LineSplitter, MalformedOutputError } from './k6-csv.ts';

const HEADER = 'metric_name,timestamp,metric_value,check,error_code,expected_response,name,status,extra_tags,metadata';
const T0 = 1_796_000_000_000;

function feed(lines: string[], aggregator: LoadAggregator): void {
  const parser = new K6CsvParser();
  for (const line of [HEADER, ...lines]) {
    const sample = parser.parse(line);
    if (sample) aggregator.add(sample);
  }
}

const request = (ms: number, name: string, status: string, durationMs: number, failed = false, errorCode = '') => [
  `http_reqs,${ms},1.000000,,${errorCode},${!failed},${name},${status},,`,
  `http_req_duration,${ms},${durationMs.toFixed(6)},,${errorCode},${!failed},${name},${status},,`,
  `http_req_blocked,${ms},0.01,,${errorCode},${!failed},${name},${status},,`,
  `http_req_failed,${ms},${failed ? '1.000000' : '0.000000'},,${errorCode},${!failed},${name},${status},,`,
];

describe('k6 CSV parsing', () => {
  it('finds columns by header name, reads quoted fields, skips metrics it does not aggregate', () => {
    const parser = new K6CsvParser();
    expect(parser.parse('metric_name,timestamp,metric_value,status,check,extra_tags')).toBeNull();
    expect(parser.parse('data_sent,1,82,,,')).toBeNull();
    expect(parser.parse('checks,1000,0,,"body has ""id"", really",')).toMatchObject({ metric: 'checks', check: 'body has "id", really', status: '' });
    expect(parser.parse('app_responses,1000,1,,,version=v1&instance=a')).toMatchObject({ extraTags: 'version=v1&instance=a' });
  });

  it('throws on malformed output instead of guessing', () => {
    const parser = new K6CsvParser();
    expect(() => parser.parse('garbage')).toThrow(MalformedOutputError);
    parser.parse(HEADER);
    expect(() => parser.parse('http_reqs,abc,1,,,true,x,200,,')).toThrow(MalformedOutputError);
    expect(() => parser.parse('http_reqs,1000,1,,,true')).toThrow(MalformedOutputError);
    expect(() => parser.parse('checks,1000,1,"open quote,,,,,,,')).toThrow(MalformedOutputError);
  });

  it('splits a stream into lines across chunk boundaries', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter();
    splitter.push('a,b\nc', (l) => lines.push(l));
    splitter.push('d\r\ne', (l) => lines.push(l));
    splitter.end((l) => lines.push(l));
    expect(lines).toEqual(['a,b', 'cd', 'e']);
  });
});

describe('LoadAggregator', () => {
  it('folds samples into contiguous per-second records, holding only open seconds', () => {
    const aggregator = new LoadAggregator({ source: 'k6', step: 'growth', targetRate: (t) => (t - T0) / 1000 + 1 });
    feed([
      ...request(T0 + 10, 'GET /api/items/:id', '200', 5),
      ...request(T0 + 20, 'GET /api/items/:id', '200', 7),
      ...request(T0 + 900, 'POST /api/orders', '503', 30, true),
      `checks,${T0 + 900},0.000000,order status 201/200,,,,,,`,
      `checks,${T0 + 900},1.000000,item status 200,,,,,,`,
      `app_responses,${T0 + 900},1.000000,,,,,,version=v1&instance=pod-a,`,
      `app_responses,${T0 + 900},1.000000,,,,,,version=v2&instance=pod-b,`,
      `iterations,${T0 + 950},1.000000,,,,,,,`,
      `dropped_iterations,${T0 + 999},2.000000,,,,,,,`,
      // nothing in T0+1000..1999: an empty second, still written
      ...request(T0 + 2500, 'GET /api/cpu', '0', 0, true, '1212'),
      `vus,${T0 + 3100},3,,,,,,,`,
    ], aggregator);
    expect(aggregator.openSeconds).toBe(3);
    expect(aggregator.closeBefore(T0 + 999)).toEqual([]); // second 0 is not over yet
    const first = aggregator.closeBefore(T0 + 1999).map((c) => c.record);
    expect(first.map((r) => r.t)).toEqual([T0]);
    expect(first[0]).toMatchObject({
      kind: 'load', source: 'k6', step: 'growth', requests: 3, failed: 1, status: { 200: 2, 503: 1 },
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
    const aggregator = new LoadAggregator({ source: 'k6' });
    feed([...request(T0 + 100, 'x', '200', 1), ...request(T0 + 1100, 'x', '200', 1)], aggregator);
    expect(aggregator.closeBefore(T0 + 1500).map((c) => c.record.requests)).toEqual([1]);
    feed([...request(T0 + 200, 'x', '200', 1)], aggregator);
    const rest = aggregator.closeAll().map((c) => c.record);
    expect(rest).toHaveLength(1);
    expect(rest[0]).toMatchObject({ t: T0 + 1000, requests: 2 });
    expect(rest[0]!.targetRate).toBeUndefined();
    expect(aggregator.lateSamples).toBe(3); // http_reqs, http_req_duration, http_req_failed
  });

  it('names error kinds from k6 error codes and statuses', () => {
    expect(errorKind('0', '1050')).toBe('timeout');
    expect(errorKind('0', '1211')).toBe('timeout');
    expect(errorKind('0', '1212')).toBe('connection refused');
    expect(errorKind('0', '1220')).toBe('connection reset');
    expect(errorKind('0', '1101')).toBe('dns');
    expect(errorKind('502', '1502')).toBe('5xx');
    expect(errorKind('404', '1404')).toBe('4xx');
    expect(errorKind('0', '')).toBe('no response');
  });
});
