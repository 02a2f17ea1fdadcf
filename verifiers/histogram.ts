// Latency histograms for judging: LoadRecords carry HDR histograms (microseconds) so percentiles over any
// stretch of the run are computed from merged counts, never from averaged percentiles. The encoding and
// merge rules are the load engine's own (harness/load/histogram.ts): one definition for writer and reader.
import type { LoadRecord } from '../harness/timeline.ts';
import { createHistogram, decodeHistogram, encodeHistogram, percentileMs, type LatencyHistogram } from '../harness/load/histogram.ts';

export type Histogram = LatencyHistogram;

/** An empty histogram that grows to fit whatever is added (decoded ones cannot, so merge into these). */
export function emptyHistogram(): Histogram {
  return createHistogram();
}

/** Decodes one record's histogram; undefined when the text is not a readable HDR histogram. */
export function decodeLatency(encoded: string): Histogram | undefined {
  // A second without responses may be written as an empty string.
  if (encoded === '') return emptyHistogram();
  try {
    return decodeHistogram(encoded);
  } catch {
    return undefined;
  }
}

export function encodeLatency(histogram: Histogram): string {
  return encodeHistogram(histogram);
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
  return percentileMs(histogram, 95);
}
