// growth: the reference mix at a rate ramping from the base through three steps to the peak, a hold at the
// peak, and a return to the base. Open model: arrivals follow the plan whatever the latency.
import { referenceMix } from './lib/mix.ts';
import { growthPlan } from './lib/plan.ts';
import { defineScenario } from './lib/scenario.ts';

export default defineScenario({ name: 'growth', plan: growthPlan, requests: referenceMix });
