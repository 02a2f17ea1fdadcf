// spike: the reference mix at a steady base, a jump to the peak (10x the base by default) within seconds, a
// hold, a drop, and recovery at the base. Open model: a slow service cannot slow the load down.
import { referenceMix } from './lib/mix.ts';
import { spikePlan } from './lib/plan.ts';
import { defineScenario } from './lib/scenario.ts';

export default defineScenario({ name: 'spike', plan: spikePlan, requests: referenceMix });
