import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bruteForcePercentileMs } from '../testing/brute-force.ts';
import { createHistogram, decodeHistogram, encodeHistogram, mergeLatency, mergeHistograms, percentileMs, recordMs } from './histogram.ts';

const latenciesMs = fc.array(fc.oneof(
  fc.double({ min: 0.05, max: 50, noNaN: true }),
  fc.double({ min: 50, max: 5000, noNaN: true }), // a slow tail
), { minLength: 1, maxLength: 2000 });

describe('latency histograms', () => {
  it('reads percentiles back within 1 % of the exact value, after an encode/decode round trip', () => {
    fc.assert(fc.property(latenciesMs, fc.constantFrom(50, 90, 95, 99, 100), (values, p) => {
      const h = createHistogram();
      values.forEach((v) => recordMs(h, v));
      const decoded = decodeHistogram(encodeHistogram(h));
      const exact = bruteForcePercentileMs(values, p);
      const read = percentileMs(decoded, p)!;
      expect(Math.abs(read - exact)).toBeLessThanOrEqual(exact * 0.01 + 0.001);
      expect(decoded.totalCount).toBe(values.length);
    }), { numRuns: 200 });
  });

  it('merging histograms gives the percentiles of the union, never an average of percentiles', () => {
    fc.assert(fc.property(fc.array(latenciesMs, { minLength: 2, maxLength: 5 }), (parts) => {
      const encoded = parts.map((values) => {
        const h = createHistogram();
        values.forEach((v) => recordMs(h, v));
        return encodeHistogram(h);
      });
      const union = parts.flat();
      const merged = mergeLatency(encoded.map((latencyUs) => ({ latencyUs }))).histogram;
      const exact = bruteForcePercentileMs(union, 95);
      expect(merged.totalCount).toBe(union.length);
      expect(Math.abs(percentileMs(merged, 95)! - exact)).toBeLessThanOrEqual(exact * 0.01 + 0.001);
    }), { numRuns: 100 });
  });

  it('an average of per-part p95s can be far off, which is why records merge histograms', () => {
    const fast = Array.from({ length: 1000 }, () => 10);
    const slow = Array.from({ length: 100 }, () => 1000);
    const [a, b] = [fast, slow].map((values) => {
      const h = createHistogram();
      values.forEach((v) => recordMs(h, v));
      return h;
    });
    const averaged = (percentileMs(a!, 95)! + percentileMs(b!, 95)!) / 2;
    const merged = percentileMs(mergeHistograms([a!, b!]), 95)!;
    expect(Math.abs(merged - bruteForcePercentileMs([...fast, ...slow], 95))).toBeLessThan(10);
    expect(averaged).toBeGreaterThan(400); // ~505 ms vs a true p95 in the 1000 ms tail
    expect(percentileMs(createHistogram(), 95)).toBeNull();
  });
});
