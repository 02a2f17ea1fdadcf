// Per-second series from real HDR histograms: merging is exact, buckets average per second, gaps stay gaps,
// and step series, markers and bands line up with the events they come from.
import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import type { LoadRecord, TimelineEvent, TimelineRecord } from '../contract/timeline.ts';
import { analyzeLoad, chartBucketS, dbRoleSeries, markersOf, phaseBands, replicaSeries, sliceWidthS } from './series.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function histogramOf(valuesUs: readonly number[]): string {
  const h = hdr.build();
  for (const v of valuesUs) h.recordValue(v);
  const encoded = hdr.encodeIntoCompressedBase64(h);
  h.destroy();
  return encoded;
}

function load(second: number, valuesUs: readonly number[], extra: Partial<LoadRecord> = {}): LoadRecord {
  return {
    kind: 'load', t: T0 + second * 1000 + 137, source: 'k6-0', requests: valuesUs.length, failed: 0, status: { 200: valuesUs.length },
    errors: {}, latencyUs: histogramOf(valuesUs), byName: {}, versions: {}, instances: {}, iterations: valuesUs.length, dropped: 0, ...extra,
  };
}

const event = (ms: number, type: TimelineEvent['type'], data: unknown) =>
  ({ kind: 'event', t: T0 + ms, source: 'test', type, data }) as TimelineEvent;

const range = (from: number, to: number, step = 1) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

describe('analyzeLoad', () => {
  it('merges the histograms of two load generators in one second exactly', () => {
    const fast = range(1_000, 50_000, 1_000); // 1..50 ms
    const slow = range(100_000, 1_000_000, 100_000); // 100..1000 ms
    const { series, summary } = analyzeLoad([load(0, fast), { ...load(0, slow), source: 'k6-1' }]);
    const all = hdr.build();
    for (const v of [...fast, ...slow]) all.recordValue(v);
    expect(series.t).toEqual([T0]);
    expect(series.rps).toEqual([60]);
    expect(series.p50Ms[0]).toBe(all.getValueAtPercentile(50) / 1000);
    expect(series.p99Ms[0]).toBe(all.getValueAtPercentile(99) / 1000);
    expect(series.p99Ms[0]).toBeGreaterThan(900); // the slow generator's tail is not averaged away
    expect(summary.latencyMs?.max).toBeCloseTo(1000, -1);
    all.destroy();
  });

  it('keeps per-second rates in wider buckets, merges their histograms, and leaves missing seconds empty', () => {
    const records: TimelineRecord[] = [
      load(0, range(1_000, 10_000, 1_000), { failed: 2, errors: { timeout: 2 } }), // 10 req
      load(1, range(1_000, 20_000, 1_000)), // 20 req
      load(2, range(1_000, 30_000, 1_000), { failed: 3, errors: { '5xx': 3 } }), // 30 req
      // seconds 3..5 missing: the generator wrote nothing
      load(6, [500_000]),
    ];
    const { series, summary } = analyzeLoad(records, 3);
    expect(series.bucketS).toBe(3);
    expect(series.t).toEqual([T0, T0 + 3000, T0 + 6000]);
    expect(series.rps).toEqual([20, null, 1]);
    expect(series.failedPerS).toEqual([5 / 3, null, 0]);
    expect(series.errorsPerS).toEqual({ '5xx': [1, null, 0], timeout: [2 / 3, null, 0] });
    expect(series.p99Ms[1]).toBeNull();
    expect(series.p99Ms[2]).toBeCloseTo(500, 0);
    // The bucket's p50 is the p50 of its 60 requests together, not an average of three per-second p50s.
    const merged = hdr.build();
    for (const v of [...range(1_000, 10_000, 1_000), ...range(1_000, 20_000, 1_000), ...range(1_000, 30_000, 1_000)]) merged.recordValue(v);
    expect(series.p50Ms[0]).toBe(merged.getValueAtPercentile(50) / 1000);
    merged.destroy();

    expect(summary).toMatchObject({
      seconds: 4, requests: 61, failed: 5, rps: { mean: 61 / 4, min: 1, max: 30 }, secondsWithErrors: 2,
      errors: { timeout: 2, '5xx': 3 }, worstSecond: { t: T0 + 6000 },
    });
    expect(summary.errorRatePercent).toBeCloseTo((5 / 61) * 100, 10);
  });

  it('summarises a run without load as empty, not as zeros that look measured', () => {
    const { series, summary } = analyzeLoad([event(0, 'run.start', { runId: 'r', cluster: 'c', profile: 'p', steps: [] })]);
    expect(series.t).toEqual([]);
    expect(summary.rps).toBeNull();
    expect(summary.latencyMs).toBeNull();
    expect(summary.errorRatePercent).toBeNull();
  });

  it('charts the five biggest error kinds by name and sums the rest as other', () => {
    const errors = { a: 9, b: 8, c: 7, d: 6, e: 5, f: 1, g: 1 };
    const { series } = analyzeLoad([load(0, [1000], { failed: 37, errors })]);
    expect(Object.keys(series.errorsPerS)).toEqual(['a', 'b', 'c', 'd', 'e', 'other']);
    expect(series.errorsPerS.other).toEqual([2]);
  });
});

describe('slices and request names', () => {
  it('slices count from the run start, merge their seconds exactly and keep asked against achieved', () => {
    const records: TimelineRecord[] = [
      load(1, range(1_000, 10_000, 1_000), { targetRate: 10, failed: 1, errors: { timeout: 1 } }),
      load(4, range(1_000, 20_000, 1_000), { targetRate: 30, iterations: 20, dropped: 10 }),
      load(5, [900_000], { targetRate: 1 }),
    ];
    // The run started a second before the first load record; 5 s slices: [0, 5) and [5, 10).
    const { slices } = analyzeLoad(records, 1, { sliceS: 5, originMs: T0 });
    expect(slices.map((s) => [s.from - T0, s.to - T0, s.seconds, s.requests, s.failed, s.dropped])).toEqual([[0, 5000, 2, 30, 1, 10], [5000, 10_000, 1, 1, 0, 0]]);
    expect(slices[0]).toMatchObject({ askedPerS: 20, achievedPerS: 15, requestsPerS: 15, failures: { timeout: 1 } });
    const merged = hdr.build();
    for (const v of [...range(1_000, 10_000, 1_000), ...range(1_000, 20_000, 1_000)]) merged.recordValue(v);
    expect(slices[0]?.p95Ms).toBe(merged.getValueAtPercentile(95) / 1000);
    merged.destroy();
    expect(slices[1]?.p50Ms).toBeCloseTo(900, 0);
    expect(analyzeLoad(records).slices).toEqual([]);
  });

  it('per request name: counts always, percentiles from the merged per-name histograms when the records have them', () => {
    const reads = range(1_000, 50_000, 1_000);
    const writes = range(100_000, 500_000, 100_000);
    const records: TimelineRecord[] = [
      load(0, [...reads, ...writes], { byName: { read: { requests: 50, failed: 0, latencyUs: histogramOf(reads) }, write: { requests: 5, failed: 1, latencyUs: histogramOf(writes) } } }),
      load(1, [1_000], { byName: { read: { requests: 1, failed: 0, latencyUs: histogramOf([1_000]) }, cpu: { requests: 3, failed: 0 } } }),
      load(2, [1_000], { byName: { write: { requests: 1, failed: 0, latencyUs: 'not a histogram' } } }),
    ];
    const { summary } = analyzeLoad(records);
    expect(summary.byName.map((n) => [n.name, n.requests, n.failed, n.latencySamples])).toEqual([['read', 51, 0, 51], ['write', 6, 1, 5], ['cpu', 3, 0, 0]]);
    const read = hdr.build();
    for (const v of [...reads, 1_000]) read.recordValue(v);
    expect(summary.byName[0]?.p95Ms).toBe(read.getValueAtPercentile(95) / 1000);
    read.destroy();
    expect(summary.byName[1]?.p50Ms).toBeCloseTo(300, -1);
    expect(summary.byName[2]).toMatchObject({ p50Ms: null, p95Ms: null, p99Ms: null });
    expect(summary.byName[1]?.errorRatePercent).toBeCloseTo(100 / 6, 10);
    expect(summary.unreadableLatency).toBe(1); // the unreadable per-name histogram is counted and left out
  });
});

describe('sliceWidthS', () => {
  it('cuts a run into at most twelve round slices', () => {
    expect(sliceWidthS(60_000)).toBe(5);
    expect(sliceWidthS(121_000)).toBe(15);
    expect(sliceWidthS(3_600_000)).toBe(300);
    expect(sliceWidthS(24 * 3_600_000)).toBe(7200);
    expect(sliceWidthS(30 * 24 * 3_600_000)).toBe(86_400 * 3);
  });
});

describe('chartBucketS', () => {
  it('keeps short runs per second and a one-hour run under 1500 points', () => {
    expect(chartBucketS(300_000)).toBe(1);
    expect(chartBucketS(3_600_000)).toBe(3);
    expect(3600 / chartBucketS(3_600_000)).toBeLessThanOrEqual(1500);
  });
});

describe('step series, markers and bands', () => {
  const records: TimelineRecord[] = [
    event(0, 'replicas', { desired: 3, ready: 3 }),
    event(0, 'db.role', { member: 'pg-0', role: 'primary' }),
    event(0, 'db.role', { member: 'pg-1', role: 'replica' }),
    event(1000, 'phase', { step: 's', name: 'steady', state: 'start' }),
    event(5000, 'action.start', { action: 'kill' }),
    event(5100, 'pod.stop', { pod: 'app-1', reason: 'killed' }),
    event(5100, 'pod.stop', { pod: 'app-2', reason: 'scale-down' }),
    event(5200, 'replicas', { desired: 3, ready: 2 }),
    event(6000, 'phase', { step: 's', name: 'steady', state: 'end' }),
    event(6000, 'phase', { step: 's', name: 'chaos', state: 'start' }),
    event(7000, 'db.role', { member: 'pg-0', role: 'down' }),
    event(7000, 'db.role', { member: 'pg-1', role: 'primary' }),
    event(8000, 'action.end', { action: 'kill', ok: false, error: 'x' }),
  ];

  it('replicas hold each value until the next change and close at the run end', () => {
    expect(replicaSeries(records, T0 + 10_000)).toEqual({
      t: [T0, T0 + 5200, T0 + 10_000],
      values: { desired: [3, 3, 3], ready: [3, 2, 2] },
    });
  });

  it('database roles change together when members change in the same millisecond', () => {
    expect(dbRoleSeries(records, T0 + 10_000)).toEqual({
      t: [T0, T0 + 7000, T0 + 10_000],
      values: { 'pg-0': [2, 0, 0], 'pg-1': [1, 2, 2] },
    });
  });

  it('marks actions, killed pods and new primaries, not routine pod stops', () => {
    expect(markersOf(records).map((m) => [m.t - T0, m.kind, m.label])).toEqual([
      [0, 'failover', 'pg-0 primary'],
      [5000, 'kill', 'kill start'],
      [5100, 'kill', 'killed app-1'],
      [7000, 'failover', 'pg-1 primary'],
      [8000, 'kill', 'kill failed'],
    ]);
  });

  it('bands phases, and a phase left open by a crash runs to the end', () => {
    expect(phaseBands(records, T0 + 10_000)).toEqual([
      { from: T0 + 1000, to: T0 + 6000, label: 'steady' },
      { from: T0 + 6000, to: T0 + 10_000, label: 'chaos' },
    ]);
  });
});
