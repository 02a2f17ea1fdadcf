// The rate a step asks for, engine-neutral: from a scenario declaration, or read from a k6 script's options.
// The aggregator stamps each second with it (targetRate) and the saturation check compares against it.
import { rateAt, type LoadPlan, type Stage } from '../scenarios/lib/plan.ts';

export interface ScenarioRate {
  startS: number;
  startRate: number;
  stages: Stage[];
}

export interface AskedPlan {
  /** Seconds from the executors' start to the end of the last scenario (graceful stops excluded). */
  totalS: number;
  /** Only when every scenario is an arrival-rate (open model) executor; closed models have no asked rate. */
  rates: ScenarioRate[] | null;
}

export function askedPlanOf(plan: LoadPlan): AskedPlan {
  return { totalS: plan.totalS, rates: [{ startS: 0, startRate: plan.startRate, stages: plan.stages }] };
}

/** Iterations asked in [fromS, toS) of the plan (numeric integral, 20 slices: exact enough for linear ramps). */
export function askedIterations(plan: AskedPlan, fromS: number, toS: number): number | undefined {
  if (!plan.rates) return undefined;
  const slices = 20;
  const width = (toS - fromS) / slices;
  let sum = 0;
  for (let i = 0; i < slices; i++) {
    const mid = fromS + (i + 0.5) * width;
    for (const s of plan.rates) sum += rateAt(s, mid - s.startS) * width;
  }
  return sum;
}
