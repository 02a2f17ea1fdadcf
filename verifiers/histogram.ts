// Latency histograms: LoadRecords carry HDR histograms (microseconds) so percentiles over any stretch of
// the run are computed from merged counts. Averaging per-second percentiles would be wrong, so nothing here
// ever does that.
import * as hdr from 'hdr-histogram-js';
import type { LoadRecord } from '../harness/timeline.ts';

export type Histogram = hdr.Histogram;

export function emptyHistogram(): Histogram {
  return hdr.build();
}

/** Decodes one record's histogram; undefined when the text is not a readable HDR histogram. */
export function decodeLatency(encoded: string): Histogram | undefined {
  // A second without responses may be written as an empty string.
  if (encoded === '') return emptyHistogram();
  try {
    return hdr.decodeFromCompressedBase64(encoded);
  } catch {
    return undefined;
  }
}

export function encodeLatency(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export interface MergedLatency {
  histogram: Histogram;
  /** Records whose histogram could not be decoded (they are left out of the merge). */
  unreadable: number;
}

export function mergeLatency(records: readonly LoadRecord[]): MergedLatency {
  const histogram = emptyHistogram();
  let unreadable = 0;
  for (const record of records) {
    const decoded = decodeLatency(record.latencyUs);
    if (decoded) histogram.add(decoded);
    else unreadable += 1;
  }
  return { histogram, unreadable };
}

/** p95 in milliseconds, null without samples. HDR reports the top of the bucket (<= 0.1 % above the value). */
export function p95Ms(histogram: Histogram): number | null {
  if (histogram.totalCount === 0) return null;
  return histogram.getValueAtPercentile(95) / 1000;
}
