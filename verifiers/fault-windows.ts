// The stretches of a run that a database failover is allowed to cost. A failover has its own SLO (recovery
// within failover.maxRecoveryS, no acknowledged write lost); counting the same outage again against a
// short run's availability and error rate would fail every run that tests a failover at all, whatever the
// service does. So each failover window runs from the failover's start to the end of the last second with
// failed requests inside its recovery budget. Failures after the budget stay in, as does every second
// outside a window, and the verdicts list what they left out.
import type { SloSpec } from '../contract/spec.ts';
import type { LoadRecord } from '../contract/timeline.ts';
import { BUCKET_MS, loadIn, type RunContext } from './run-context.ts';
import { horizonOf } from './failover.ts';
import { at } from './verdict.ts';

export interface FaultWindow {
  from: number;
  to: number;
  cause: 'failover';
}

export function failoverWindows(ctx: RunContext, spec: SloSpec): FaultWindow[] {
  return ctx.events('action.start')
    .filter((action) => action.data.action === 'failover')
    .map((action) => {
      const budgetEnd = Math.min(action.t + spec.slos.failover.maxRecoveryS * 1000, horizonOf(ctx, action));
      const lastFailed = loadIn(ctx.load, action.t, budgetEnd).filter((r) => r.failed > 0 || r.status['0'] !== undefined).at(-1);
      const to = lastFailed ? Math.min(budgetEnd, Math.floor(lastFailed.t / BUCKET_MS) * BUCKET_MS + BUCKET_MS) : action.t;
      return { from: action.t, to, cause: 'failover' as const };
    })
    .filter((w) => w.to > w.from);
}

/** The load records outside every window (a record belongs to a window when its second starts inside it). */
export function outsideWindows(load: readonly LoadRecord[], windows: readonly FaultWindow[]): LoadRecord[] {
  if (windows.length === 0) return [...load];
  return load.filter((r) => !windows.some((w) => r.t >= Math.floor(w.from / BUCKET_MS) * BUCKET_MS && r.t < w.to));
}

export function excludedNotes(ctx: RunContext, windows: readonly FaultWindow[]): string[] {
  return windows.map((w) => `left out ${at(w.from, ctx.from)} to ${at(w.to, ctx.from)}: a database failover, judged by the failover SLO`);
}
