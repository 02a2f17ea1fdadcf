// k6's CSV rows -> engine-neutral samples. The rows are written as k6 v1.x writes them (testing/fake-k6/k6-format.ts
// follows output/csv and Go's encoding/csv), then read back with csv-parse as the engine reads its FIFO.
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvHeader, csvRow, csvTagColumns, goCsvLine, type K6Sample } from '../../testing/fake-k6/k6-format.ts';
import type { LoadSink, RequestSample } from '../sink.ts';
import { checkHeader, MalformedOutputError, rowToSink, type K6Row } from './csv.ts';

const SYSTEM_TAGS = ['status', 'name', 'error_code', 'expected_response', 'check'];
const columns = csvTagColumns(SYSTEM_TAGS);

class RecordingSink implements LoadSink {
  readonly calls: unknown[][] = [];
  request(sample: RequestSample): void { this.calls.push(['request', sample]); }
  iterations(t: number, count: number): void { this.calls.push(['iterations', t, count]); }
  dropped(t: number, count: number): void { this.calls.push(['dropped', t, count]); }
  served(t: number, version: string | undefined, instance: string | undefined, count: number): void { this.calls.push(['served', t, version, instance, count]); }
  note(t: number, kind: string): void { this.calls.push(['note', t, kind]); }
  tick(t: number): void { this.calls.push(['tick', t]); }
}

/** Writes samples as k6 does, parses them as the engine does, and feeds them to a sink. */
function roundTrip(samples: K6Sample[], shuffle?: <T>(items: T[]) => T[]): RecordingSink {
  const text = [csvHeader(columns), ...samples.map((s) => csvRow(s, columns, 'unix_milli', shuffle))].map(goCsvLine).join('');
  const rows = parse(text, { columns: (header: string[]) => { checkHeader(header); return header; } }) as K6Row[];
  const sink = new RecordingSink();
  for (const row of rows) rowToSink(row, sink);
  return sink;
}

const T = 1_760_000_000_123;

describe('k6 CSV (--out csv, K6_CSV_TIME_FORMAT=unix_milli)', () => {
  it('has the tag columns of --system-tags sorted, between the value and extra_tags/metadata', () => {
    expect(goCsvLine(csvHeader(columns))).toBe('metric_name,timestamp,metric_value,check,error_code,expected_response,name,status,extra_tags,metadata\n');
    expect(() => checkHeader(csvHeader(columns))).not.toThrow();
    expect(() => checkHeader(['timestamp', 'metric_name', 'metric_value'])).toThrow(MalformedOutputError);
  });

  it('writes values with %f and milliseconds since the epoch', () => {
    expect(csvRow({ metric: 'http_req_duration', timeMs: T, value: 12.3456789, tags: { name: 'GET /x', status: '200', expected_response: 'true' } }, columns, 'unix_milli'))
      .toEqual(['http_req_duration', String(T), '12.345679', '', '', 'true', 'GET /x', '200', '', '']);
  });

  it.each<[string, Record<string, string>, Partial<RequestSample>]>([
    ['an expected status', { name: 'GET /api/items/:id', status: '200', expected_response: 'true' }, { status: 200, failure: null }],
    ['a 5xx (error_code 1000+status)', { name: 'POST /api/orders', status: '503', expected_response: 'false', error_code: '1503' }, { status: 503, failure: '5xx' }],
    ['a timeout (status 0, error_code 1050)', { name: 'GET /api/cpu', status: '0', expected_response: 'false', error_code: '1050' }, { status: 0, failure: 'timeout' }],
    ['a refused connection (1212)', { name: 'GET /api/cpu', status: '0', expected_response: 'false', error_code: '1212' }, { status: 0, failure: 'connection refused' }],
    ['a name Go quotes (comma and quote)', { name: 'GET /a,"b"', status: '200', expected_response: 'true' }, { name: 'GET /a,"b"', failure: null }],
  ])('reads one request per http_req_duration row: %s', (_label, tags, expected) => {
    const trail = ['http_reqs', 'http_req_duration', 'http_req_blocked', 'http_req_connecting', 'http_req_tls_handshaking', 'http_req_sending', 'http_req_waiting', 'http_req_receiving', 'http_req_failed'];
    const sink = roundTrip(trail.map((metric) => ({ metric, timeMs: T, value: metric === 'http_req_duration' ? 42.5 : 1, tags })));
    const requests = sink.calls.filter(([kind]) => kind === 'request');
    expect(requests).toHaveLength(1);
    expect(requests[0]?.[1]).toMatchObject({ t: T, latencyMs: 42.5, name: tags.name, ...expected });
    // The timing rows only move the clock.
    expect(sink.calls.filter(([kind]) => kind === 'tick')).toHaveLength(trail.length - 1);
  });

  it('reads iterations, dropped iterations and the app_responses counter (its tags in extra_tags, in any order)', () => {
    const reversed = <U>(items: U[]) => [...items].reverse();
    const samples: K6Sample[] = [
      { metric: 'app_responses', timeMs: T, value: 1, tags: { version: 'v2', instance: 'pod-b' } },
      { metric: 'iterations', timeMs: T + 1, value: 1 },
      { metric: 'dropped_iterations', timeMs: T + 2, value: 1 },
      { metric: 'vus', timeMs: T + 3, value: 4 },
    ];
    for (const shuffle of [undefined, reversed]) {
      expect(roundTrip(samples, shuffle).calls).toEqual([
        ['served', T, 'v2', 'pod-b', 1], ['iterations', T + 1, 1], ['dropped', T + 2, 1], ['tick', T + 3],
      ]);
    }
  });

  it('refuses a row whose timestamp or value is not a number', () => {
    const sink = new RecordingSink();
    expect(() => rowToSink({ metric_name: 'http_reqs', timestamp: 'soon', metric_value: '1.000000' }, sink)).toThrow(MalformedOutputError);
    expect(() => rowToSink({ metric_name: 'http_reqs', timestamp: String(T), metric_value: '' }, sink)).toThrow(MalformedOutputError);
  });
});
