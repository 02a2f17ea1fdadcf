// One step's plan for N runners: every stage's rate divided by N, durations and the request mix unchanged,
// so N runners started on one shared t=0 together ask exactly what one engine would (up to N-1 arrivals of
// rounding: each runner schedules floor(its integral)). Each runner's worker cap covers a whole timeout of
// its own share of the peak.
import type { EmbeddedPlan } from '../embedded-engine.ts';
import { workerCapFor } from '../embedded-engine.ts';

export function splitPlan(plan: EmbeddedPlan, runners: number): EmbeddedPlan {
  if (!Number.isInteger(runners) || runners < 1) throw new Error(`runners must be an integer >= 1, got ${runners}`);
  const peak = Math.max(plan.startRate, ...plan.stages.map((s) => s.target));
  return {
    ...plan,
    startRate: plan.startRate / runners,
    stages: plan.stages.map((s) => ({ target: s.target / runners, durationS: s.durationS })),
    requests: plan.requests.map((r) => ({ ...r })),
    maxWorkers: workerCapFor(peak / runners),
  };
}
