// Builds timelines for verifier tests: events at seconds from the run start, and LoadRecords with real HDR
// histograms (encoded exactly like the k6 side does), so tests exercise the same decoding and merging code
// a real run does.
import type { EventOf, EventType, LoadRecord, TimelineRecord } from '../contract/timeline.ts';
import { createHistogram, encodeHistogram } from '../contract/histogram.ts';

export const RUN_START = Date.UTC(2026, 0, 1, 12, 0, 0);

export interface SecondOfLoad {
  /** Latencies in ms; each entry one request unless given as [ms, count]. */
  latencyMs?: (number | [number, number])[];
  /** Requests in this second; defaults to the number of latency samples. */
  requests?: number;
  failed?: number;
  status?: Record<string, number>;
  errors?: Record<string, number>;
  byName?: Record<string, { requests: number; failed: number }>;
  versions?: Record<string, number>;
  instances?: Record<string, number>;
  iterations?: number;
  dropped?: number;
  targetRate?: number;
  step?: string;
  source?: string;
}

export class TimelineBuilder {
  private readonly items: TimelineRecord[] = [];

  constructor(readonly start = RUN_START) {}

  /** Epoch ms of a second offset from the run start. */
  time(atS: number): number {
    return Math.round(this.start + atS * 1000);
  }

  event<T extends EventType>(atS: number, type: T, data: EventOf<T>['data'], source = 'test'): this {
    this.items.push({ kind: 'event', t: this.time(atS), source, type, data } as TimelineRecord);
    return this;
  }

  /** run.start at 0 and run.end at `endS`, completed unless told otherwise. */
  run(endS: number, options: { profile?: string; status?: 'completed' | 'aborted' | 'invalid'; steps?: string[] } = {}): this {
    this.event(0, 'run.start', { runId: 'test-run', cluster: 'test', profile: options.profile ?? 'full', steps: options.steps ?? [] });
    return this.event(endS, 'run.end', { status: options.status ?? 'completed' });
  }

  step(name: string, scenario: string, fromS: number, toS: number): this {
    this.event(fromS, 'step.start', { step: name, scenario, durationS: toS - fromS });
    return this.event(toS, 'step.end', { step: name, ok: true });
  }

  /** One LoadRecord for the second starting at `atS`. */
  second(atS: number, load: SecondOfLoad = {}): this {
    const histogram = createHistogram();
    let samples = 0;
    for (const entry of load.latencyMs ?? []) {
      const [ms, count] = Array.isArray(entry) ? entry : [entry, 1];
      histogram.recordValueWithCount(Math.round(ms * 1000), count);
      samples += count;
    }
    const requests = load.requests ?? samples;
    const failed = load.failed ?? 0;
    const record: LoadRecord = {
      kind: 'load',
      t: this.time(atS),
      source: load.source ?? 'k6-0',
      requests,
      failed,
      status: load.status ?? { '200': requests - failed, ...(failed > 0 ? { '503': failed } : {}) },
      errors: load.errors ?? (failed > 0 ? { '5xx': failed } : {}),
      latencyUs: encodeHistogram(histogram),
      byName: load.byName ?? {},
      versions: load.versions ?? {},
      instances: load.instances ?? {},
      iterations: load.iterations ?? requests,
      dropped: load.dropped ?? 0,
      ...(load.targetRate !== undefined ? { targetRate: load.targetRate } : {}),
      ...(load.step !== undefined ? { step: load.step } : {}),
    };
    this.items.push(record);
    return this;
  }

  /** The same load (or a load computed per second) for every second in [fromS, toS). */
  seconds(fromS: number, toS: number, load: SecondOfLoad | ((atS: number) => SecondOfLoad)): this {
    for (let s = fromS; s < toS; s++) this.second(s, typeof load === 'function' ? load(s) : load);
    return this;
  }

  records(): TimelineRecord[] {
    return [...this.items].sort((a, b) => a.t - b.t);
  }
}

/** `count` requests of `ms` each. */
export const flat = (ms: number, count: number): [number, number][] => [[ms, count]];
