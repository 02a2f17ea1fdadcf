// sustained: a constant arrival rate of RATE_BASE for the whole DURATION_S (a soak).
// Open model only: the executor starts iterations at the asked rate whatever the latency, so a slow
// service cannot slow the load down (k6 reports iterations it could not start as dropped_iterations).
import { parseScenarioEnv } from './lib/env.ts';
import { announcePlan, iteration } from './lib/mix.ts';
import { optionsFor } from './lib/options.ts';
import { sustainedPlan } from './lib/plan.ts';

const env = parseScenarioEnv(__ENV);
const plan = sustainedPlan(env);

export const options = optionsFor(plan, env);

export function setup(): void {
  announcePlan(plan);
}

export default function (): void {
  iteration(env);
}
