// sustained: the reference mix at one constant rate (the base) for the whole step (a soak).
import { referenceMix } from './lib/mix.ts';
import { sustainedPlan } from './lib/plan.ts';
import { defineScenario } from './lib/scenario.ts';

export default defineScenario({ name: 'sustained', plan: sustainedPlan, requests: referenceMix });
