// What every verifier needs to know about a run, derived once from the timeline: its bounds, its steps, its
// profile (for time-scaled budgets) and the load records in time order.
import { eventsOf, loadRecords, type EventOf, type EventType, type LoadRecord, type TimelineRecord } from '../contract/timeline.ts';
import type { SloSpec } from '../contract/spec.ts';

/** Load records are one-second buckets starting at `t`. */
export const BUCKET_MS = 1000;

export interface StepSpan {
  name: string;
  scenario: string;
  from: number;
  /** step.end time, or the end of the run when the step never ended. */
  to: number;
}

export interface RunContext {
  records: readonly TimelineRecord[];
  load: readonly LoadRecord[];
  /** run.start (or the first record) to run.end (or the end of the last record). */
  from: number;
  to: number;
  profile: string | undefined;
  /** The profile's timeScale from the spec; 1 when the run names no profile the spec knows. */
  timeScale: number;
  steps: StepSpan[];
  events<T extends EventType>(type: T): EventOf<T>[];
}

export function runContext(records: readonly TimelineRecord[], spec: SloSpec): RunContext {
  const sorted = [...records].sort((a, b) => a.t - b.t);
  const load = loadRecords(sorted);
  const start = eventsOf(sorted, 'run.start')[0];
  const end = eventsOf(sorted, 'run.end').at(-1);
  const first = sorted[0]?.t ?? 0;
  const lastLoad = load.at(-1);
  const last = Math.max(sorted.at(-1)?.t ?? 0, lastLoad ? lastLoad.t + BUCKET_MS : 0);
  const from = start?.t ?? first;
  const to = end?.t ?? last;
  const profile = start?.data.profile;
  const timeScale = profile !== undefined && Object.hasOwn(spec.profiles, profile) ? (spec.profiles[profile]?.timeScale ?? 1) : 1;

  const ends = eventsOf(sorted, 'step.end');
  const steps = eventsOf(sorted, 'step.start').map((s): StepSpan => {
    const stepEnd = ends.find((e) => e.data.step === s.data.step && e.t >= s.t);
    return { name: s.data.step, scenario: s.data.scenario, from: s.t, to: stepEnd?.t ?? to };
  });
  return { records: sorted, load, from, to, profile, timeScale, steps, events: (type) => eventsOf(sorted, type) };
}

/** Records whose one-second bucket overlaps [from, to). */
export function loadIn(load: readonly LoadRecord[], from: number, to: number): LoadRecord[] {
  return load.filter((r) => r.t + BUCKET_MS > from && r.t < to);
}

/** The step running at time t, if any. */
export function stepAt(ctx: RunContext, t: number): StepSpan | undefined {
  return ctx.steps.find((s) => s.from <= t && t <= s.to);
}

export function sum<T>(items: readonly T[], pick: (item: T) => number): number {
  return items.reduce((total, item) => total + pick(item), 0);
}

/** Adds count maps (status codes, versions, error kinds) of many records into one. */
export function addCounts(maps: readonly Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const map of maps) for (const [key, value] of Object.entries(map)) total[key] = (total[key] ?? 0) + value;
  return total;
}
