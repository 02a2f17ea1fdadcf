import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LoadRecordSchema, type LoadRecord } from '../contract/timeline.ts';
import { createHistogram, decodeHistogram, encodeHistogram, percentileMs, recordMs } from '../contract/histogram.ts';
import { mergeLoadRecords } from './merge.ts';
import { bruteForcePercentileMs } from '../testing/brute-force.ts';

function record(t: number, source: string, latenciesMs: number[], extra: Partial<LoadRecord> = {}): LoadRecord {
  const h = createHistogram();
  latenciesMs.forEach((v) => recordMs(h, v));
  return {
    kind: 'load', t, source, step: 's', requests: latenciesMs.length, failed: 0, status: { 200: latenciesMs.length }, errors: {},
    latencyUs: encodeHistogram(h), byName: { 'GET /x': { requests: latenciesMs.length, failed: 0 } }, versions: { v1: latenciesMs.length },
    instances: { [`pod-${source}`]: latenciesMs.length }, iterations: latenciesMs.length, dropped: 0, targetRate: 10, ...extra,
  };
}

describe('mergeLoadRecords', () => {
  it('merged p95 of each second equals the brute-force p95 of the union of all runners', () => {
    const latency = fc.double({ min: 0.1, max: 3000, noNaN: true });
    // runners x seconds x samples
    const runs = fc.array(fc.array(fc.array(latency, { minLength: 0, maxLength: 200 }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 4 });
    fc.assert(fc.property(runs, (runners) => {
      const records = runners.flatMap((seconds, r) => seconds.map((values, s) => record(1_000_000 + s * 1000, `k6-${r}`, values)));
      const merged = mergeLoadRecords(records);
      expect(merged.map((m) => m.t)).toEqual([1_000_000, 1_001_000, 1_002_000]);
      merged.forEach((m, s) => {
        const union = runners.flatMap((seconds) => seconds[s]!);
        expect(m.requests).toBe(union.length);
        expect(m.targetRate).toBe(10 * runners.length);
        expect(LoadRecordSchema.safeParse(m).success).toBe(true);
        const h = decodeHistogram(m.latencyUs);
        expect(h.totalCount).toBe(union.length);
        if (union.length === 0) return;
        const exact = bruteForcePercentileMs(union, 95);
        expect(Math.abs(percentileMs(h, 95)! - exact)).toBeLessThanOrEqual(exact * 0.01 + 0.001);
      });
    }), { numRuns: 60 });
  });

  it('sums counts, statuses, errors, names, versions and instances; keeps steps apart', () => {
    const a = record(0, 'a', [1, 2], { failed: 1, errors: { '5xx': 1 }, status: { 200: 1, 503: 1 }, dropped: 2 });
    const b = record(0, 'b', [3], { versions: { v2: 1 } });
    const other = record(0, 'a', [4], { step: 'other' });
    const merged = mergeLoadRecords([b, other, a], 'all');
    expect(merged).toHaveLength(2);
    const m = merged.find((r) => r.step === 's')!;
    expect(m).toMatchObject({
      source: 'all', requests: 3, failed: 1, dropped: 2, iterations: 3, errors: { '5xx': 1 }, status: { 200: 2, 503: 1 },
      byName: { 'GET /x': { requests: 3, failed: 0 } }, versions: { v1: 2, v2: 1 }, instances: { 'pod-a': 2, 'pod-b': 1 },
    });
  });
});
