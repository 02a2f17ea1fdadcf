// k6 options (one open-model scenario, thresholds) from a resolved scenario. Pure: returns a plain object.
import { REQUEST_TIMEOUT_S, vusFor } from './plan.ts';
import type { K6Env } from './k6-env.ts';

const ms = (seconds: number) => `${Math.max(1, Math.round(seconds * 1000))}ms`;

/** The slowest request the mix can expect (a CPU request burns `?ms=N` on the server). */
function expectedLatencyS(env: K6Env): number {
  const cpuMs = Math.max(0, ...env.scenario.requests.map((r) => Number(/[?&]ms=(\d+)/.exec(r.path)?.[1] ?? 0)));
  return Math.max(0.05, cpuMs / 1000);
}

export function optionsFor(env: K6Env) {
  const plan = env.scenario.plan;
  const sized = vusFor(plan.peakRate, expectedLatencyS(env));
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
    scenarios: { [plan.kind]: { ...executor, preAllocatedVUs, maxVUs, gracefulStop: `${REQUEST_TIMEOUT_S}s` } },
    thresholds: env.thresholds,
    // Counted per second by the runner; p(99) too for a human reading a bare `k6 run`.
    summaryTrendStats: ['avg', 'min', 'med', 'p(95)', 'p(99)', 'max'],
  };
}
