// Turns timeline records into what charts and summaries need: per-bucket load series (asked and achieved
// rate, latency percentiles from the merged HDR histograms, failures by reason), coarser slices of the same for
// the text reports, per-request-name totals, step series for replicas and database roles, and the markers and
// phase bands drawn over every chart. Shared by every report.
//
// Latency histograms are decoded one second at a time and merged into a handful of live histograms (the
// current second, the current chart bucket, the current slice, one per request name; the whole run's is fed
// by each closed chart bucket):
// keeping one per second would cost tens of kB each, which for a one-hour run is hundreds of MB. Bucket
// histograms are reset and reused, and a second with one load generator uses its decoded histogram as is:
// allocating histograms dominated the run time.
import { createHistogram, readLatency, type LatencyHistogram as Histogram } from '../contract/histogram.ts';
import { eventsOf, loadRecords } from '../contract/timeline.ts';
import type { LoadRecord, TimelineRecord } from '../contract/timeline.ts';

/** Error kinds charted by name; the rest are summed into "other" so the legend stays readable. */
const MAX_ERROR_KINDS = 5;

export interface LoadSeries {
  /** Seconds per point: 1 for short runs, more when a long run is downsampled for charts. */
  bucketS: number;
  /** Epoch ms, start of each bucket. */
  t: number[];
  /** Per-second averages over the seconds of the bucket that have load records; null where none do. */
  rps: (number | null)[];
  /** Iterations started per second: the achieved arrival rate, to set against `targetRate`. */
  iterationsPerS: (number | null)[];
  failedPerS: (number | null)[];
  droppedPerS: (number | null)[];
  /** The arrival rate the engine was asked for; null where the engine did not say. */
  targetRate: (number | null)[];
  /** Percentiles of the bucket's merged histogram, in ms; null when it saw no request. */
  p50Ms: (number | null)[];
  p95Ms: (number | null)[];
  p99Ms: (number | null)[];
  /** Failure reason (error kind, or "other") -> failures per second. */
  errorsPerS: Record<string, (number | null)[]>;
}

/** One request name of the mix (reads, writes, CPU...) over the whole run. */
export interface RequestNameLoad {
  name: string;
  requests: number;
  failed: number;
  errorRatePercent: number | null;
  /** From the name's own merged histograms; null when the records carry none (timelines before they did). */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** Responses behind the percentiles (0 when the records carry no histogram for this name). */
  latencySamples: number;
}

export interface LoadSummary {
  /** Seconds that have at least one load record. */
  seconds: number;
  requests: number;
  failed: number;
  dropped: number;
  iterations: number;
  errorRatePercent: number | null;
  rps: { mean: number; min: number; max: number } | null;
  latencyMs: { p50: number; p95: number; p99: number; max: number } | null;
  worstSecond: { t: number; p99Ms: number } | null;
  secondsWithErrors: number;
  errors: Record<string, number>;
  status: Record<string, number>;
  versions: Record<string, number>;
  /** Load records whose latency histogram could not be decoded: left out of every percentile. */
  unreadableLatency: number;
  /** Per request name, most requests first. */
  byName: RequestNameLoad[];
}

/** A stretch of the run in the text reports' "load over time" table. */
export interface LoadSlice {
  /** Epoch ms; `to` is exclusive. */
  from: number;
  to: number;
  /** Seconds in the slice that have load records. */
  seconds: number;
  /** Asked arrival rate, per second; null when the engine did not say. */
  askedPerS: number | null;
  /** Iterations started per second. */
  achievedPerS: number;
  requestsPerS: number;
  requests: number;
  failed: number;
  dropped: number;
  /** Failure reason -> count. */
  failures: Record<string, number>;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface LoadAnalysis {
  series: LoadSeries;
  summary: LoadSummary;
  /** Coarse slices (see {@link sliceWidthS}); empty unless asked for. */
  slices: LoadSlice[];
}

const usToMs = (us: number) => us / 1000;

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, count] of Object.entries(from)) into[key] = (into[key] ?? 0) + count;
}

/** Bucket width that keeps a chart under `maxPoints` points: one hour at 1500 points gives 3 s buckets. */
export function chartBucketS(durationMs: number, maxPoints = 1500): number {
  return Math.max(1, Math.ceil(durationMs / 1000 / maxPoints));
}

const NICE_SLICES_S = [5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** A round slice width that cuts the run into at most `maxRows` rows: 2 minutes -> 10 s, one hour -> 5 min. */
export function sliceWidthS(durationMs: number, maxRows = 12): number {
  const wanted = durationMs / 1000 / maxRows;
  return NICE_SLICES_S.find((width) => width >= wanted) ?? Math.ceil(wanted / 86400) * 86400;
}

interface SecondTotals {
  requests: number;
  failed: number;
  iterations: number;
  dropped: number;
  targetRate: number | null;
  errors: Record<string, number>;
}

interface ClosedBucket extends SecondTotals {
  seconds: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/**
 * Fixed-width buckets of whole seconds counted from `originS`, filled in time order: the totals of each
 * second are added, and the latency of its seconds merged into one reused histogram that is read when the
 * bucket closes.
 */
class Buckets {
  readonly closed = new Map<number, ClosedBucket>();
  private readonly histogram = createHistogram();
  private open: { index: number; bucket: ClosedBucket } | null = null;

  constructor(readonly widthS: number, readonly originS: number) {}

  add(second: number, totals: SecondTotals, latency: Histogram | null, closedInto?: Histogram): void {
    const index = Math.floor((second - this.originS) / this.widthS);
    if (this.open && this.open.index !== index) this.close(closedInto);
    this.open ??= {
      index,
      bucket: { seconds: 0, requests: 0, failed: 0, iterations: 0, dropped: 0, targetRate: null, errors: {}, p50: null, p95: null, p99: null },
    };
    const { bucket } = this.open;
    bucket.seconds += 1;
    bucket.requests += totals.requests;
    bucket.failed += totals.failed;
    bucket.iterations += totals.iterations;
    bucket.dropped += totals.dropped;
    if (totals.targetRate !== null) bucket.targetRate = (bucket.targetRate ?? 0) + totals.targetRate;
    addCounts(bucket.errors, totals.errors);
    if (latency && latency.totalCount > 0) this.histogram.add(latency);
  }

  /** Closes the open bucket; `into` also gets its merged latency (one add per bucket instead of per second). */
  close(into?: Histogram): void {
    if (!this.open) return;
    const { bucket, index } = this.open;
    if (this.histogram.totalCount > 0) {
      bucket.p50 = usToMs(this.histogram.getValueAtPercentile(50));
      bucket.p95 = usToMs(this.histogram.getValueAtPercentile(95));
      bucket.p99 = usToMs(this.histogram.getValueAtPercentile(99));
      into?.add(this.histogram);
    }
    this.closed.set(index, bucket);
    this.histogram.reset();
    this.open = null;
  }

  destroy(): void {
    this.histogram.destroy();
  }
}

/** The merged latency of one second: the decoded histogram itself when only one record has requests. */
/** Unreadable histograms are counted into `unreadable` and left out, exactly as the verifiers do. */
function secondHistogram(group: readonly LoadRecord[], unreadable: { count: number }): Histogram | null {
  const withLatency = group.filter((record) => record.requests > 0 && record.latencyUs !== '');
  if (withLatency.length === 0) return null;
  if (withLatency.length === 1) {
    const only = readLatency(withLatency[0]?.latencyUs ?? '');
    if (!only) unreadable.count += 1;
    return only ?? null;
  }
  // A decoded histogram does not grow: merging into it would clip values past its range, so merge fresh.
  const merged = createHistogram();
  for (const record of withLatency) {
    const decoded = readLatency(record.latencyUs);
    if (!decoded) { unreadable.count += 1; continue; }
    merged.add(decoded);
    decoded.destroy();
  }
  return merged;
}

/** Groups load records by whole second, in time order, so each second is decoded and merged exactly once. */
function* seconds(records: readonly LoadRecord[]): Generator<{ second: number; records: LoadRecord[] }> {
  const sorted = [...records].sort((a, b) => a.t - b.t);
  let group: LoadRecord[] = [];
  let current = Number.NaN;
  for (const record of sorted) {
    const second = Math.floor(record.t / 1000);
    if (second !== current && group.length > 0) {
      yield { second: current, records: group };
      group = [];
    }
    current = second;
    group.push(record);
  }
  if (group.length > 0) yield { second: current, records: group };
}

interface NameTotals {
  requests: number;
  failed: number;
  /** Created on the first record of the name that carries a histogram. */
  histogram: Histogram | null;
}

/** Adds one record's per-name counts and histograms; a name's unreadable histogram is counted and left out. */
function addByName(into: Map<string, NameTotals>, record: LoadRecord, unreadable: { count: number }): void {
  for (const [name, entry] of Object.entries(record.byName)) {
    let totals = into.get(name);
    if (!totals) {
      totals = { requests: 0, failed: 0, histogram: null };
      into.set(name, totals);
    }
    totals.requests += entry.requests;
    totals.failed += entry.failed;
    if (entry.latencyUs === undefined || entry.requests === 0 || entry.latencyUs === '') continue;
    const decoded = readLatency(entry.latencyUs);
    if (!decoded) { unreadable.count += 1; continue; }
    totals.histogram ??= createHistogram();
    totals.histogram.add(decoded);
    decoded.destroy();
  }
}

function byNameRows(totals: Map<string, NameTotals>): RequestNameLoad[] {
  const rows = [...totals].map(([name, { requests, failed, histogram }]): RequestNameLoad => {
    const seen = histogram !== null && histogram.totalCount > 0;
    const at = (percentile: number) => (seen ? usToMs(histogram.getValueAtPercentile(percentile)) : null);
    const row: RequestNameLoad = {
      name, requests, failed, errorRatePercent: requests > 0 ? (failed / requests) * 100 : null,
      p50Ms: at(50), p95Ms: at(95), p99Ms: at(99), latencySamples: seen ? histogram.totalCount : 0,
    };
    histogram?.destroy();
    return row;
  });
  return rows.sort((a, b) => b.requests - a.requests || a.name.localeCompare(b.name));
}

export interface SliceOptions {
  /** Slice width in seconds; no slices without it. */
  sliceS: number;
  /** Epoch ms the slices count from (the run start); the first load second when absent. */
  originMs?: number;
}

export function analyzeLoad(records: readonly TimelineRecord[], bucketS = 1, slicing?: SliceOptions): LoadAnalysis {
  const load = loadRecords(records);
  const overall = createHistogram();
  const unreadable = { count: 0 };
  const summary: LoadSummary = {
    seconds: 0, requests: 0, failed: 0, dropped: 0, iterations: 0, errorRatePercent: null, rps: null,
    latencyMs: null, worstSecond: null, secondsWithErrors: 0, errors: {}, status: {}, versions: {}, unreadableLatency: 0, byName: [],
  };
  const names = new Map<string, NameTotals>();
  let chart: Buckets | null = null;
  let slices: Buckets | null = null;
  let firstSecond: number | null = null;
  let lastSecond = 0;

  let minRps = Number.POSITIVE_INFINITY;
  let maxRps = 0;
  for (const { second, records: group } of seconds(load)) {
    if (firstSecond === null) {
      firstSecond = second;
      const sliceOrigin = slicing ? Math.min(second, Math.floor((slicing.originMs ?? second * 1000) / 1000)) : second;
      chart = new Buckets(bucketS, second);
      if (slicing) slices = new Buckets(slicing.sliceS, sliceOrigin);
    }
    lastSecond = second;

    const totals: SecondTotals = { requests: 0, failed: 0, iterations: 0, dropped: 0, targetRate: null, errors: {} };
    for (const record of group) {
      totals.requests += record.requests;
      totals.failed += record.failed;
      totals.iterations += record.iterations;
      totals.dropped += record.dropped;
      if (record.targetRate !== undefined) totals.targetRate = (totals.targetRate ?? 0) + record.targetRate;
      addCounts(totals.errors, record.errors);
      addCounts(summary.status, record.status);
      addCounts(summary.versions, record.versions);
      addByName(names, record, unreadable);
    }
    addCounts(summary.errors, totals.errors);
    summary.seconds += 1;
    summary.requests += totals.requests;
    summary.failed += totals.failed;
    summary.dropped += totals.dropped;
    summary.iterations += totals.iterations;
    if (totals.failed > 0) summary.secondsWithErrors += 1;
    minRps = Math.min(minRps, totals.requests);
    maxRps = Math.max(maxRps, totals.requests);
    const latency = secondHistogram(group, unreadable);
    if (latency && latency.totalCount > 0) {
      const p99 = usToMs(latency.getValueAtPercentile(99));
      if (!summary.worstSecond || p99 > summary.worstSecond.p99Ms) summary.worstSecond = { t: second * 1000, p99Ms: p99 };
    }
    // The whole run's histogram is fed by each closed chart bucket, which holds exactly its seconds.
    chart?.add(second, totals, latency, overall);
    slices?.add(second, totals, latency);
    latency?.destroy();
  }
  chart?.close(overall);
  slices?.close();

  if (summary.seconds > 0) {
    summary.rps = { mean: summary.requests / summary.seconds, min: minRps, max: maxRps };
    summary.errorRatePercent = summary.requests > 0 ? (summary.failed / summary.requests) * 100 : null;
  }
  if (overall.totalCount > 0) {
    summary.latencyMs = {
      p50: usToMs(overall.getValueAtPercentile(50)),
      p95: usToMs(overall.getValueAtPercentile(95)),
      p99: usToMs(overall.getValueAtPercentile(99)),
      max: usToMs(overall.maxValue),
    };
  }
  summary.byName = byNameRows(names);
  summary.unreadableLatency = unreadable.count;
  overall.destroy();
  chart?.destroy();
  slices?.destroy();

  const chartedKinds = Object.entries(summary.errors)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, MAX_ERROR_KINDS)
    .map(([kind]) => kind);
  const hasOther = Object.keys(summary.errors).length > chartedKinds.length;

  const series: LoadSeries = {
    bucketS, t: [], rps: [], iterationsPerS: [], failedPerS: [], droppedPerS: [], targetRate: [], p50Ms: [], p95Ms: [], p99Ms: [], errorsPerS: {},
  };
  for (const kind of chartedKinds) series.errorsPerS[kind] = [];
  if (hasOther) series.errorsPerS.other = [];
  if (firstSecond !== null && chart) {
    const count = Math.floor((lastSecond - firstSecond) / bucketS) + 1;
    for (let index = 0; index < count; index += 1) {
      const bucket = chart.closed.get(index);
      series.t.push((firstSecond + index * bucketS) * 1000);
      const perS = (value: number) => (bucket ? value / bucket.seconds : null);
      series.rps.push(perS(bucket?.requests ?? 0));
      series.iterationsPerS.push(perS(bucket?.iterations ?? 0));
      series.failedPerS.push(perS(bucket?.failed ?? 0));
      series.droppedPerS.push(perS(bucket?.dropped ?? 0));
      series.targetRate.push(bucket && bucket.targetRate !== null ? bucket.targetRate / bucket.seconds : null);
      series.p50Ms.push(bucket?.p50 ?? null);
      series.p95Ms.push(bucket?.p95 ?? null);
      series.p99Ms.push(bucket?.p99 ?? null);
      let other = 0;
      for (const [kind, count] of Object.entries(bucket?.errors ?? {})) {
        if (chartedKinds.includes(kind)) continue;
        other += count;
      }
      for (const kind of chartedKinds) series.errorsPerS[kind]?.push(perS(bucket?.errors[kind] ?? 0));
      if (hasOther) series.errorsPerS.other?.push(perS(other));
    }
  }
  return { series, summary, slices: slices ? sliceRows(slices) : [] };
}

/** Slices in time order; a slice the load generator wrote nothing in is left out, not shown as zeros. */
function sliceRows(slices: Buckets): LoadSlice[] {
  return [...slices.closed].sort((a, b) => a[0] - b[0]).map(([index, bucket]) => {
    const from = (slices.originS + index * slices.widthS) * 1000;
    return {
      from,
      to: from + slices.widthS * 1000,
      seconds: bucket.seconds,
      askedPerS: bucket.targetRate === null ? null : bucket.targetRate / bucket.seconds,
      achievedPerS: bucket.iterations / bucket.seconds,
      requestsPerS: bucket.requests / bucket.seconds,
      requests: bucket.requests,
      failed: bucket.failed,
      dropped: bucket.dropped,
      failures: bucket.errors,
      p50Ms: bucket.p50,
      p95Ms: bucket.p95,
      p99Ms: bucket.p99,
    };
  });
}

/** Values that change at events: each point holds from its time until the next one. */
export interface StepSeries {
  /** Epoch ms of each change, plus a closing point at the end of the run. */
  t: number[];
  values: Record<string, (number | null)[]>;
}

export function replicaSeries(records: readonly TimelineRecord[], endMs: number): StepSeries {
  const series: StepSeries = { t: [], values: { desired: [], ready: [] } };
  for (const event of eventsOf(records, 'replicas')) {
    series.t.push(event.t);
    series.values.desired?.push(event.data.desired);
    series.values.ready?.push(event.data.ready);
  }
  closeSteps(series, endMs);
  return series;
}

/** Database role as a level per member: 2 primary, 1 replica, 0 down; null before its first report. */
export const DB_ROLE_LEVEL = { primary: 2, replica: 1, down: 0 } as const;

export function dbRoleSeries(records: readonly TimelineRecord[], endMs: number): StepSeries {
  const events = eventsOf(records, 'db.role');
  const members = [...new Set(events.map((e) => e.data.member))].sort();
  const series: StepSeries = { t: [], values: Object.fromEntries(members.map((m) => [m, []])) };
  const current = new Map<string, number>();
  for (const event of events) {
    current.set(event.data.member, DB_ROLE_LEVEL[event.data.role]);
    // Several members often change in the same millisecond (a failover): one point holds them all.
    if (series.t.at(-1) === event.t) {
      for (const member of members) series.values[member]?.pop();
    } else {
      series.t.push(event.t);
    }
    for (const member of members) series.values[member]?.push(current.get(member) ?? null);
  }
  closeSteps(series, endMs);
  return series;
}

function closeSteps(series: StepSeries, endMs: number): void {
  const last = series.t.at(-1);
  if (last === undefined || last >= endMs) return;
  series.t.push(endMs);
  for (const values of Object.values(series.values)) values.push(values.at(-1) ?? null);
}

export type MarkerKind = 'rollout' | 'kill' | 'failover' | 'scale' | 'loadgen';

export interface Marker {
  t: number;
  kind: MarkerKind;
  label: string;
}

/** Disruptions a reader looks for on the charts: actions, pod kills, primary changes, load generator trouble. */
export function markersOf(records: readonly TimelineRecord[]): Marker[] {
  const markers: Marker[] = [];
  for (const record of records) {
    if (record.kind !== 'event') continue;
    switch (record.type) {
      case 'action.start':
        markers.push({ t: record.t, kind: record.data.action, label: `${record.data.action} start` });
        break;
      case 'action.end':
        markers.push({ t: record.t, kind: record.data.action, label: `${record.data.action} ${record.data.ok ? 'end' : 'failed'}` });
        break;
      case 'pod.stop':
        if (record.data.reason === 'killed') markers.push({ t: record.t, kind: 'kill', label: `killed ${record.data.pod}` });
        break;
      case 'db.role':
        if (record.data.role === 'primary') markers.push({ t: record.t, kind: 'failover', label: `${record.data.member} primary` });
        break;
      case 'rollout':
        if (record.data.state !== 'progress') {
          markers.push({ t: record.t, kind: 'rollout', label: `rollout ${record.data.from} to ${record.data.to} ${record.data.state}` });
        }
        break;
      case 'loadgen':
        markers.push({ t: record.t, kind: 'loadgen', label: `load generator ${record.data.state}` });
        break;
      default:
        break;
    }
  }
  return markers.sort((a, b) => a.t - b.t);
}

export interface Band {
  from: number;
  to: number;
  label: string;
}

/** Phases as shaded stretches; a phase still open at the end of the run (a crash) runs to the end. */
export function phaseBands(records: readonly TimelineRecord[], endMs: number): Band[] {
  const open = new Map<string, number>();
  const bands: Band[] = [];
  for (const event of eventsOf(records, 'phase')) {
    const key = `${event.data.step}\u0000${event.data.name}`;
    if (event.data.state === 'start') {
      open.set(key, event.t);
    } else {
      const from = open.get(key);
      if (from !== undefined) bands.push({ from, to: event.t, label: event.data.name });
      open.delete(key);
    }
  }
  for (const [key, from] of open) bands.push({ from, to: Math.max(from, endMs), label: key.split('\u0000')[1] ?? '' });
  return bands.sort((a, b) => a.from - b.from);
}
