// k6 options (one open-model scenario, thresholds) from a plan. Pure: returns a plain object.
import { vusFor, type LoadPlan } from './plan.ts';
import type { ScenarioEnv } from './env.ts';

const ms = (seconds: number) => `${Math.max(1, Math.round(seconds * 1000))}ms`;

export function optionsFor(plan: LoadPlan, env: ScenarioEnv) {
  // Iterations against a CPU endpoint last at least CPU_MS; size VUs for the slowest call of the mix.
  const sized = vusFor(plan.peakRate, Math.max(0.05, env.cpuMs / 1000));
  const preAllocatedVUs = env.preAllocatedVUs ?? Math.min(sized.preAllocatedVUs, env.maxVUs ?? Infinity);
  const maxVUs = env.maxVUs ?? sized.maxVUs;
  const executor = plan.executor === 'constant-arrival-rate'
    ? { executor: 'constant-arrival-rate', rate: plan.startRate, timeUnit: '1s', duration: ms(plan.totalS) }
    : {
        executor: 'ramping-arrival-rate',
        startRate: plan.startRate,
        timeUnit: '1s',
        stages: plan.stages.map((s) => ({ target: s.target, duration: ms(s.durationS) })),
      };
  return {
    scenarios: { [plan.kind]: { ...executor, preAllocatedVUs, maxVUs, gracefulStop: '5s' } },
    thresholds: env.thresholds,
    // Counted per second by the runner; p(99) too for a human reading a bare `k6 run`.
    summaryTrendStats: ['avg', 'min', 'med', 'p(95)', 'p(99)', 'max'],
  };
}
