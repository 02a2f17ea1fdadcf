// The one latency histogram codec of the timeline: mergeable HDR histograms of microseconds, written by every
// load engine and read by every verifier and report the same way. Percentiles of several seconds or several
// load generators come from merging the histograms, never from averaging percentiles, which is wrong for any
// skewed distribution. Three significant digits: a value read back is within 0.1 % of the true one.
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

export type LatencyHistogram = Histogram;

// 32-bit counts: 4 billion samples per histogram is far beyond one second of one generator, and half the
// memory of 64-bit buckets. autoResize lets a rare minutes-long request in without an upper bound guess.
const BIT_BUCKET_SIZE = 32;

/** An empty histogram that grows to fit whatever is added (decoded ones cannot, so merge into these). */
export function createHistogram(): LatencyHistogram {
  return build({ bitBucketSize: BIT_BUCKET_SIZE, autoResize: true, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
}

/** Records one latency given in milliseconds as whole microseconds. */
export function recordMs(histogram: LatencyHistogram, ms: number): void {
  histogram.recordValue(Math.max(0, Math.round(ms * 1000)));
}

/** Records one latency given in whole microseconds. */
export function recordUs(histogram: LatencyHistogram, us: number): void {
  histogram.recordValue(Math.max(0, Math.round(us)));
}

export function encodeHistogram(histogram: LatencyHistogram): string {
  return encodeIntoCompressedBase64(histogram);
}

/** Decodes a histogram the writer encoded; throws on text that is not one. See {@link readLatency}. */
export function decodeHistogram(encoded: string): LatencyHistogram {
  return decodeFromCompressedBase64(encoded, BIT_BUCKET_SIZE, false);
}

/**
 * How every reader decodes a record's `latencyUs`: a second without responses may be written as '' (an empty
 * histogram); text that is not a histogram is `undefined`, for the caller to count as unreadable and leave
 * out, never to crash on or to read as zero latency.
 */
export function readLatency(encoded: string): LatencyHistogram | undefined {
  if (encoded === '') return createHistogram();
  try {
    return decodeHistogram(encoded);
  } catch {
    return undefined;
  }
}

/** Exact merge: the result counts every sample of every input. */
export function mergeHistograms(histograms: Iterable<LatencyHistogram>): LatencyHistogram {
  const merged = createHistogram();
  for (const histogram of histograms) merged.add(histogram);
  return merged;
}

export interface MergedLatency {
  histogram: LatencyHistogram;
  /** Records whose histogram could not be decoded (they are left out of the merge). */
  unreadable: number;
}

/** Merges the histograms of many records (seconds, runners); unreadable ones are counted and left out. */
export function mergeLatency(records: Iterable<{ latencyUs: string }>): MergedLatency {
  const histogram = createHistogram();
  let unreadable = 0;
  for (const record of records) {
    const decoded = readLatency(record.latencyUs);
    if (decoded) histogram.add(decoded);
    else unreadable += 1;
  }
  return { histogram, unreadable };
}

/** Percentile (0..100) in milliseconds, or null when the histogram is empty. HDR reports the top of the bucket. */
export function percentileMs(histogram: LatencyHistogram, percentile: number): number | null {
  if (histogram.totalCount === 0) return null;
  return histogram.getValueAtPercentile(percentile) / 1000;
}

/** p95 in milliseconds, null without samples. */
export function p95Ms(histogram: LatencyHistogram): number | null {
  return percentileMs(histogram, 95);
}
