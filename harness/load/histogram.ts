// Mergeable latency histograms (HDR, microseconds). Percentiles of several seconds or several load
// generators come from merging the histograms, never from averaging percentiles, which is wrong for any
// skewed distribution. Three significant digits: a value read back is within 0.1 % of the true one.
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

export type LatencyHistogram = Histogram;

// 32-bit counts: 4 billion samples per histogram is far beyond one second of one generator, and half the
// memory of 64-bit buckets. autoResize lets a rare minutes-long request in without an upper bound guess.
const BIT_BUCKET_SIZE = 32;

export function createHistogram(): LatencyHistogram {
  return build({ bitBucketSize: BIT_BUCKET_SIZE, autoResize: true, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
}

/** Records one latency given in milliseconds (k6's unit) as whole microseconds. */
export function recordMs(histogram: LatencyHistogram, ms: number): void {
  histogram.recordValue(Math.max(0, Math.round(ms * 1000)));
}

export function encodeHistogram(histogram: LatencyHistogram): string {
  return encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): LatencyHistogram {
  return decodeFromCompressedBase64(encoded, BIT_BUCKET_SIZE, false);
}

/** Exact merge: the result counts every sample of every input. */
export function mergeHistograms(histograms: Iterable<LatencyHistogram>): LatencyHistogram {
  const merged = createHistogram();
  for (const histogram of histograms) merged.add(histogram);
  return merged;
}

export function mergeEncoded(encoded: Iterable<string>): LatencyHistogram {
  const merged = createHistogram();
  for (const text of encoded) merged.add(decodeHistogram(text));
  return merged;
}

/** Percentile (0..100) in milliseconds, or null when the histogram is empty. */
export function percentileMs(histogram: LatencyHistogram, percentile: number): number | null {
  if (histogram.totalCount === 0) return null;
  return histogram.getValueAtPercentile(percentile) / 1000;
}
