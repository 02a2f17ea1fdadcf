// Folds the samples of any load engine into one LoadRecord per second. Only the seconds still open (a few, while late samples
// can arrive) are held in memory, so memory grows with neither the run's length nor its request count.
import type { LoadRecord } from '../contract/timeline.ts';
import { createHistogram, encodeHistogram, recordMs, type LatencyHistogram } from '../contract/histogram.ts';
import type { LoadSink, RequestSample } from './sink.ts';

interface Bucket {
  requests: number;
  failed: number;
  status: Record<string, number>;
  errors: Record<string, number>;
  latency: LatencyHistogram;
  byName: Record<string, { requests: number; failed: number; latency: LatencyHistogram }>;
  versions: Record<string, number>;
  instances: Record<string, number>;
  iterations: number;
  dropped: number;
}

export interface ClosedSecond {
  record: LoadRecord;
  /** The second's histogram, still decoded, for live percentiles over a window. */
  latency: LatencyHistogram;
}

export interface AggregatorOptions {
  source: string;
  step?: string;
  /** Iterations the executor asked for in [secondStartMs, secondStartMs + 1000); omitted when unknown. */
  targetRate?: (secondStartMs: number) => number | undefined;
}

const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

function emptyBucket(): Bucket {
  return {
    requests: 0, failed: 0, status: {}, errors: {}, latency: createHistogram(), byName: {}, versions: {}, instances: {}, iterations: 0, dropped: 0,
  };
}

export class LoadAggregator implements LoadSink {
  private readonly open = new Map<number, Bucket>();
  /** First second not yet written; samples older than this are late. */
  private nextSecond: number | null = null;
  private maxSecond: number | null = null;
  samples = 0;
  lateSamples = 0;

  constructor(private readonly options: AggregatorOptions) {}

  /** The open bucket of time `t`; a sample of a second already written counts in the oldest open one. */
  private bucketAt(t: number): Bucket {
    this.samples += 1;
    let second = Math.floor(t / 1000) * 1000;
    if (this.nextSecond === null) this.nextSecond = second;
    if (second < this.nextSecond) {
      // Its second is already on disk: count it in the oldest open second rather than lose it.
      this.lateSamples += 1;
      second = this.nextSecond;
    }
    if (this.maxSecond === null || second > this.maxSecond) this.maxSecond = second;
    let bucket = this.open.get(second);
    if (!bucket) {
      bucket = emptyBucket();
      this.open.set(second, bucket);
    }
    return bucket;
  }

  request(sample: RequestSample): void {
    const bucket = this.bucketAt(sample.t);
    bucket.requests += 1;
    bump(bucket.status, String(sample.status));
    const entry = (bucket.byName[sample.name || 'unnamed'] ??= { requests: 0, failed: 0, latency: createHistogram() });
    entry.requests += 1;
    recordMs(bucket.latency, sample.latencyMs);
    recordMs(entry.latency, sample.latencyMs);
    if (sample.failure !== null) {
      bucket.failed += 1;
      entry.failed += 1;
      bump(bucket.errors, sample.failure);
    }
    if (sample.version) bump(bucket.versions, sample.version);
    if (sample.instance) bump(bucket.instances, sample.instance);
  }

  iterations(t: number, count: number): void {
    this.bucketAt(t).iterations += count;
  }

  dropped(t: number, count: number): void {
    this.bucketAt(t).dropped += count;
  }

  served(t: number, version: string | undefined, instance: string | undefined, count: number): void {
    const bucket = this.bucketAt(t);
    if (version) bump(bucket.versions, version, count);
    if (instance) bump(bucket.instances, instance, count);
  }

  note(t: number, kind: string): void {
    bump(this.bucketAt(t).errors, kind);
  }

  tick(t: number): void {
    this.bucketAt(t);
  }

  /** Writes out every second that ended at or before `watermarkMs` and that some sample has reached. */
  closeBefore(watermarkMs: number): ClosedSecond[] {
    if (this.nextSecond === null || this.maxSecond === null) return [];
    const last = Math.min(Math.floor(watermarkMs / 1000) * 1000 - 1000, this.maxSecond);
    return this.closeThrough(last);
  }

  /** End of stream: every second up to the last sample. */
  closeAll(): ClosedSecond[] {
    if (this.maxSecond === null) return [];
    return this.closeThrough(this.maxSecond);
  }

  private closeThrough(lastSecond: number): ClosedSecond[] {
    const closed: ClosedSecond[] = [];
    while (this.nextSecond !== null && this.nextSecond <= lastSecond) {
      const t = this.nextSecond;
      const bucket = this.open.get(t) ?? emptyBucket();
      this.open.delete(t);
      closed.push({ record: this.toRecord(t, bucket), latency: bucket.latency });
      this.nextSecond = t + 1000;
    }
    return closed;
  }

  private toRecord(t: number, b: Bucket): LoadRecord {
    const record: LoadRecord = {
      kind: 'load', t, source: this.options.source,
      requests: b.requests, failed: b.failed, status: b.status, errors: b.errors,
      latencyUs: encodeHistogram(b.latency),
      byName: Object.fromEntries(Object.entries(b.byName).map(([name, e]) => [name, { requests: e.requests, failed: e.failed, latencyUs: encodeHistogram(e.latency) }])),
      versions: b.versions, instances: b.instances, iterations: b.iterations, dropped: b.dropped,
    };
    if (this.options.step !== undefined) record.step = this.options.step;
    const target = this.options.targetRate?.(t);
    if (target !== undefined) record.targetRate = Math.round(target * 1000) / 1000;
    return record;
  }

  /** Seconds currently held in memory (bounded by the lateness window). */
  get openSeconds(): number {
    return this.open.size;
  }
}
