// Folds k6 samples into one LoadRecord per second. Only the seconds still open (a few, while late samples
// can arrive) are held in memory, so memory grows with neither the run's length nor its request count.
import type { LoadRecord } from '../contract/timeline.ts';
import { createHistogram, encodeHistogram, recordMs, type LatencyHistogram } from '../contract/histogram.ts';
import type { K6Sample } from './k6-csv.ts';

interface Bucket {
  requests: number;
  failed: number;
  status: Record<string, number>;
  errors: Record<string, number>;
  latency: LatencyHistogram;
  byName: Record<string, { requests: number; failed: number }>;
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

/** k6 error_code ranges (https://grafana.com/docs/k6/latest/javascript-api/error-codes/) -> an error kind. */
export function errorKind(status: string, errorCode: string): string {
  const code = Number(errorCode);
  if (status === '0' || status === '') {
    if (code === 1050 || code === 1211) return 'timeout';
    if (code === 1212) return 'connection refused';
    if (code === 1220) return 'connection reset';
    if (code >= 1100 && code < 1200) return 'dns';
    if (code >= 1200 && code < 1300) return 'tcp';
    if (code >= 1300 && code < 1400) return 'tls';
    if (code >= 1600 && code < 1700) return 'http2';
    return 'no response';
  }
  const http = Number(status);
  if (http >= 500) return '5xx';
  if (http >= 400) return '4xx';
  return 'unexpected status';
}

function emptyBucket(): Bucket {
  return {
    requests: 0, failed: 0, status: {}, errors: {}, latency: createHistogram(), byName: {}, versions: {}, instances: {}, iterations: 0, dropped: 0,
  };
}

export class LoadAggregator {
  private readonly open = new Map<number, Bucket>();
  /** First second not yet written; samples older than this are late. */
  private nextSecond: number | null = null;
  private maxSecond: number | null = null;
  samples = 0;
  lateSamples = 0;

  constructor(private readonly options: AggregatorOptions) {}

  add(sample: K6Sample): void {
    this.samples += 1;
    let second = Math.floor(sample.timeMs / 1000) * 1000;
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
    switch (sample.metric) {
      case 'http_reqs': {
        bucket.requests += sample.value;
        bump(bucket.status, sample.status === '' ? '0' : sample.status, sample.value);
        const entry = (bucket.byName[sample.name || 'unnamed'] ??= { requests: 0, failed: 0 });
        entry.requests += sample.value;
        break;
      }
      case 'http_req_duration':
        recordMs(bucket.latency, sample.value);
        break;
      case 'http_req_failed':
        if (sample.value > 0) {
          bucket.failed += 1;
          bump(bucket.errors, errorKind(sample.status, sample.errorCode));
          (bucket.byName[sample.name || 'unnamed'] ??= { requests: 0, failed: 0 }).failed += 1;
        }
        break;
      case 'checks':
        if (sample.value === 0) bump(bucket.errors, 'check failed');
        break;
      case 'iterations':
        bucket.iterations += sample.value;
        break;
      case 'dropped_iterations':
        bucket.dropped += sample.value;
        break;
      case 'app_responses': {
        const tags = new URLSearchParams(sample.extraTags);
        const version = tags.get('version');
        const instance = tags.get('instance');
        if (version) bump(bucket.versions, version, sample.value);
        if (instance) bump(bucket.instances, instance, sample.value);
        break;
      }
      default:
        // vus and the like only move the clock (maxSecond) forward.
        break;
    }
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
      byName: b.byName, versions: b.versions, instances: b.instances, iterations: b.iterations, dropped: b.dropped,
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
