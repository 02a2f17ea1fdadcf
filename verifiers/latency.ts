// p95 latency, client side (what the load generator saw), from merged HDR histograms: over the whole run,
// over every sliding window of `windowS` seconds (a bad minute hides in a good hour), and per scenario
// phase. The service's own p95 (server.latency events) is put next to each figure: a gap between the two is
// time spent outside the service (network, load balancer, queueing in the load generator).
import type { SloSpec } from '../contract/spec.ts';
import type { LoadRecord } from '../contract/timeline.ts';
import { createHistogram, mergeLatency, p95Ms, type LatencyHistogram as Histogram } from '../contract/histogram.ts';
import { BUCKET_MS, loadIn, type RunContext } from './run-context.ts';
import type { Threshold, Verdict } from './types.ts';
import { round, verdict } from './verdict.ts';
import { excludedNotes, failoverWindows, outsideWindows } from './fault-windows.ts';

/** Windows with fewer samples are not judged: a p95 of a handful of requests is noise, not a breach. */
export const MIN_WINDOW_SAMPLES = 20;

interface ServerFigure {
  serverP95Ms: number | null;
  serverWindow?: { from: number; to: number };
  serverRequests?: number;
}

/** The server.latency event that covers most of [from, to). */
function serverFigure(ctx: RunContext, from: number, to: number): ServerFigure {
  let best: { overlap: number; figure: ServerFigure } | undefined;
  for (const e of ctx.events('server.latency')) {
    const overlap = Math.min(to, e.t) - Math.max(from, e.data.from);
    if (overlap > 0 && (!best || overlap > best.overlap)) {
      best = { overlap, figure: { serverP95Ms: e.data.p95Ms, serverWindow: { from: e.data.from, to: e.t }, serverRequests: e.data.requests } };
    }
  }
  return best?.figure ?? { serverP95Ms: null };
}

function judgeStretch(ctx: RunContext, spec: SloSpec, id: string, label: string, from: number, to: number, records: readonly LoadRecord[]): Verdict {
  const threshold: Threshold = { op: '<', value: spec.slos.latency.p95Ms, unit: 'ms' };
  const { histogram, unreadable } = mergeLatency(records);
  const clientP95Ms = p95Ms(histogram);
  const server = serverFigure(ctx, from, to);
  const notes = [`${records.length} load records, ${histogram.totalCount} responses`];
  if (server.serverP95Ms === null) notes.push('no server.latency figure for this stretch');
  return verdict({
    id,
    slo: `p95 latency < ${threshold.value} ms (${label})`,
    measured: clientP95Ms,
    threshold,
    window: { from, to, label },
    samples: histogram.totalCount,
    notes,
    detail: { clientP95Ms, ...server },
    ...(unreadable > 0
      ? { failure: `${unreadable} load records have unreadable latency histograms` }
      : clientP95Ms === null
        ? { failure: `no latency samples in ${label}` }
        : {}),
  });
}

/**
 * The run's load records grouped by second (several load generators share a second). Kept encoded: a
 * decoded histogram per second of an hour-long run would cost hundreds of megabytes, while the sliding
 * window below only ever needs windowS of them decoded at once.
 */
function recordsBySecond(load: readonly LoadRecord[]): Map<number, LoadRecord[]> {
  const bySecond = new Map<number, LoadRecord[]>();
  for (const record of load) {
    const second = Math.floor(record.t / BUCKET_MS) * BUCKET_MS;
    const list = bySecond.get(second);
    if (list) list.push(record);
    else bySecond.set(second, [record]);
  }
  return bySecond;
}

/** Worst p95 over all sliding windows of windowS seconds, one second apart (add the new, subtract the old). */
function judgeWindows(ctx: RunContext, spec: SloSpec): Verdict {
  const windowS = spec.slos.latency.windowS;
  const windowMs = Math.max(BUCKET_MS, Math.round(windowS * 1000 / BUCKET_MS) * BUCKET_MS);
  const threshold: Threshold = { op: '<', value: spec.slos.latency.p95Ms, unit: 'ms' };
  const bySecond = recordsBySecond(ctx.load);
  const seconds = [...bySecond.keys()].sort((a, b) => a - b);
  const running = createHistogram();
  const inWindow = new Map<number, Histogram>();
  const enter = (second: number) => {
    const records = bySecond.get(second);
    if (!records) return;
    // Unreadable histograms are counted by the whole-run verdict; here they are left out.
    const histogram = mergeLatency(records).histogram;
    inWindow.set(second, histogram);
    running.add(histogram);
  };
  const leave = (second: number) => {
    const histogram = inWindow.get(second);
    if (!histogram) return;
    running.subtract(histogram);
    inWindow.delete(second);
  };
  const first = seconds[0];
  const lastSecond = seconds.at(-1);
  const label = `worst ${windowS}s window`;
  if (first === undefined || lastSecond === undefined) {
    return verdict({ id: 'latency.p95.window', slo: `p95 latency < ${threshold.value} ms in every ${windowS}s window`, measured: null, threshold, window: { from: ctx.from, to: ctx.to, label }, samples: 0, failure: 'no latency samples in the run' });
  }
  // A run shorter than one window is judged as a single window.
  const lastStart = Math.max(first, lastSecond + BUCKET_MS - windowMs);
  const series: { from: number; p95Ms: number | null; samples: number }[] = [];
  let worst: { from: number; p95Ms: number; samples: number } | undefined;
  let judged = 0;
  for (let s = first; s < first + windowMs; s += BUCKET_MS) enter(s);
  for (let start = first; start <= lastStart; start += BUCKET_MS) {
    if (start > first) {
      leave(start - BUCKET_MS);
      enter(start + windowMs - BUCKET_MS);
    }
    const samples = running.totalCount;
    const value = samples >= MIN_WINDOW_SAMPLES ? p95Ms(running) : null;
    series.push({ from: start, p95Ms: value, samples });
    if (value === null) continue;
    judged += 1;
    if (!worst || value > worst.p95Ms) worst = { from: start, p95Ms: value, samples };
  }
  const window = worst ? { from: worst.from, to: worst.from + windowMs, label } : { from: ctx.from, to: ctx.to, label };
  const server = worst ? serverFigure(ctx, worst.from, worst.from + windowMs) : { serverP95Ms: null };
  return verdict({
    id: 'latency.p95.window',
    slo: `p95 latency < ${threshold.value} ms in every ${windowS}s window`,
    measured: worst?.p95Ms ?? null,
    threshold,
    window,
    samples: worst?.samples ?? 0,
    notes: [
      `${judged} of ${series.length} windows had >= ${MIN_WINDOW_SAMPLES} responses and were judged`,
      ...(worst ? [`worst window starts ${round((worst.from - ctx.from) / 1000, 1)}s into the run`] : []),
    ],
    detail: { clientP95Ms: worst?.p95Ms ?? null, ...server, windowS, series },
    ...(worst ? {} : { failure: `no ${windowS}s window had ${MIN_WINDOW_SAMPLES} or more responses` }),
  });
}

/** Stretches named by `phase` events; a phase that never ended lasts until its step (or the run) ends. */
function phases(ctx: RunContext): { step: string; name: string; from: number; to: number }[] {
  const events = ctx.events('phase');
  return events
    .filter((e) => e.data.state === 'start')
    .map((start) => {
      const end = events.find((e) => e.data.state === 'end' && e.data.step === start.data.step && e.data.name === start.data.name && e.t >= start.t);
      const step = ctx.steps.find((s) => s.name === start.data.step && s.from <= start.t);
      return { step: start.data.step, name: start.data.name, from: start.t, to: end?.t ?? step?.to ?? ctx.to };
    });
}

export function verifyLatency(fullCtx: RunContext, spec: SloSpec): Verdict[] {
  // Seconds a database failover is allowed to cost are judged by the failover SLO (fault-windows.ts).
  const windows = spec.slos.latency.excludeFailover ? failoverWindows(fullCtx, spec) : [];
  const ctx: RunContext = { ...fullCtx, load: outsideWindows(fullCtx.load, windows) };
  const verdicts = [judgeStretch(ctx, spec, 'latency.p95', 'whole run', ctx.from, ctx.to, ctx.load), judgeWindows(ctx, spec)];
  for (const phase of phases(ctx)) {
    verdicts.push(judgeStretch(ctx, spec, `latency.p95.phase.${phase.step}.${phase.name}`, `phase ${phase.name} of ${phase.step}`, phase.from, phase.to, loadIn(ctx.load, phase.from, phase.to)));
  }
  const left = excludedNotes(ctx, windows);
  for (const v of verdicts) v.evidence.notes.push(...left);
  return verdicts;
}
