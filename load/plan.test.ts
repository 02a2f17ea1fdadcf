// The pure halves of the scenarios (plans, declarations, k6 env and options, thresholds) and the runner's
// reading of the asked rate.
import { describe, expect, it } from 'vitest';
import { parseK6Env, SCENARIO_JSON_ENV } from '../scenarios/lib/k6-env.ts';
import { referenceMix } from '../scenarios/lib/mix.ts';
import { optionsFor } from '../scenarios/lib/options.ts';
import { fillTemplate, pickRequest, resolveScenarioDefinition } from '../scenarios/lib/scenario.ts';
import spike from '../scenarios/spike.ts';
import { growthPlan, planFor, rateAt, spikePlan, sustainedPlan, type LoadPlan } from '../scenarios/lib/plan.ts';
import { parseThresholds, thresholdsFromSlo } from '../scenarios/lib/thresholds.ts';
import { executionPlanFromOptions, parseGoDuration } from './k6/execution-plan.ts';
import { askedIterations, askedPlanOf } from './asked-rate.ts';
import { SaturationDetector } from './saturation.ts';
import { isK6Script, loadScenarioModule, resolveScenario, resolveStepScenario } from './scenarios.ts';
import type { LoadRecord } from '../contract/timeline.ts';

const params = { rateBase: 10, ratePeak: 100, durationS: 600, timeScale: 0.1 };

function expectContiguous(plan: LoadPlan) {
  expect(plan.phases[0]!.startS).toBe(0);
  plan.phases.slice(1).forEach((p, i) => expect(p.startS).toBeCloseTo(plan.phases[i]!.endS, 6));
  expect(plan.phases.at(-1)!.endS).toBeCloseTo(plan.totalS, 6);
  expect(plan.stages.reduce((s, st) => s + st.durationS, 0)).toBeCloseTo(plan.totalS, 6);
}

describe('stage plans', () => {
  it('growth climbs from base to peak, holds, and comes back; time is compressed, rates are not', () => {
    const plan = growthPlan(params);
    expect(plan.totalS).toBeCloseTo(60, 6);
    expect(plan.phases.map((p) => p.name)).toEqual(['steady', 'ramp', 'hold', 'recovery']);
    expect(plan.peakRate).toBe(100);
    expect(rateAt(plan, 1)).toBe(10);
    expect(rateAt(plan, 45)).toBe(100);
    expect(rateAt(plan, 59.99)).toBeCloseTo(10, 0);
    expect(rateAt(plan, 61)).toBe(0);
    expectContiguous(plan);
  });

  it('spike jumps to peak within seconds, holds, drops and recovers', () => {
    const plan = spikePlan(params);
    expect(plan.phases.map((p) => p.name)).toEqual(['steady', 'spike', 'hold', 'recovery']);
    const spike = plan.phases[1]!;
    expect(spike.endS - spike.startS).toBeLessThanOrEqual(5);
    expect(rateAt(plan, plan.phases[2]!.startS + 1)).toBe(100);
    expectContiguous(plan);
  });

  it('sustained is one constant-arrival-rate phase', () => {
    const plan = sustainedPlan(params);
    expect(plan).toMatchObject({ executor: 'constant-arrival-rate', totalS: 60, phases: [{ name: 'steady', startS: 0, endS: 60 }] });
    expect(planFor('sustained', params)).toEqual(plan);
  });
});

const mixParams = { weights: { read: 7, write: 2, cpu: 1 }, cpuMs: 20 };

describe('scenario declarations', () => {
  it('a built-in module declares its plan and mix once; resolving drops zero-weight requests', () => {
    const resolved = resolveScenarioDefinition(spike, { ...params, ...mixParams });
    expect(resolved.name).toBe('spike');
    expect(resolved.plan).toEqual(spikePlan(params));
    expect(resolved.requests.map((r) => [r.name, r.weight])).toEqual([['GET /api/items/:id', 7], ['POST /api/orders', 2], ['GET /api/cpu', 1]]);
    expect(resolved.requests[1]).toMatchObject({ idempotencyKey: true, ackJsonField: 'id', expectStatus: [200, 201] });
    expect(resolved.requests[2]!.path).toBe('/api/cpu?ms=20');
    const readsOnly = resolveScenarioDefinition(spike, { ...params, weights: { read: 1, write: 0, cpu: 0 }, cpuMs: 0 });
    expect(readsOnly.requests.map((r) => r.name)).toEqual(['GET /api/items/:id']);
    expect(() => resolveScenarioDefinition(spike, { ...params, weights: { read: 0, write: 0, cpu: 0 }, cpuMs: 0 })).toThrow(/weight 0/);
  });

  it('fills templates with integers in range and picks requests in proportion to their weights', () => {
    let x = 0;
    const values = Array.from({ length: 1000 }, () => Number(fillTemplate('{int:1:5}', () => (x++ % 1000) / 1000)));
    expect(new Set(values)).toEqual(new Set([1, 2, 3, 4, 5]));
    expect(fillTemplate('/a/{int:7:7}?b={int:0:0}')).toBe('/a/7?b=0');
    const mix = referenceMix({ weights: { read: 70, write: 20, cpu: 10 }, cpuMs: 5 });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 1000; i++) {
      const name = pickRequest(mix, i / 1000).name;
      counts[name] = (counts[name] ?? 0) + 1;
    }
    expect(counts).toEqual({ 'GET /api/items/:id': 700, 'POST /api/orders': 200, 'GET /api/cpu': 100 });
  });

  it('loads built-in and user modules, and refuses a file that declares no scenario', async () => {
    expect((await loadScenarioModule(resolveScenario('growth'))).name).toBe('growth');
    const resolved = await resolveStepScenario('sustained', { ...params, ...mixParams });
    expect(resolved.plan.executor).toBe('constant-arrival-rate');
    await expect(loadScenarioModule(resolveScenario('scenarios/lib/plan.ts'))).rejects.toMatchObject({ code: 'SLO_ERR_SCENARIO_UNKNOWN', exitCode: 2 });
    expect(isK6Script('mine.k6.ts')).toBe(true);
    expect(isK6Script('mine.ts')).toBe(false);
  });
});

describe('k6 env and options (the generic k6 script)', () => {
  const resolved = resolveScenarioDefinition(spike, { ...params, ...mixParams, cpuMs: 100 });
  const env = (extra: Record<string, string> = {}) => ({ BASE_URL: 'http://x:1/', [SCENARIO_JSON_ENV]: JSON.stringify(resolved), ...extra });

  it('reads the resolved scenario, thresholds and VU overrides', () => {
    const parsed = parseK6Env(env({ SLO_THRESHOLDS: JSON.stringify(thresholdsFromSlo({ p95Ms: 300, errorRatePercent: 1 })) }));
    expect(parsed).toMatchObject({ baseUrl: 'http://x:1', scenario: { name: 'spike' } });
    expect(parsed.thresholds).toEqual({ http_req_duration: ['p(95)<300'], http_req_failed: ['rate<0.01'] });
  });

  it('refuses bad values with the variable name', () => {
    expect(() => parseK6Env({})).toThrow(/BASE_URL/);
    expect(() => parseK6Env({ BASE_URL: 'http://x' })).toThrow(/SLO_SCENARIO/);
    expect(() => parseK6Env({ BASE_URL: 'http://x', SLO_SCENARIO: '{"name":"x"}' })).toThrow(/resolved scenario/);
    expect(() => parseK6Env(env({ MAX_VUS: '0' }))).toThrow(/MAX_VUS/);
    expect(() => parseThresholds('[1]')).toThrow(/object/);
  });

  it('sizes an open-model scenario from the peak rate and the slowest request, with VU overrides', () => {
    const options = optionsFor(parseK6Env(env()));
    const scenario = options.scenarios.spike as Record<string, unknown>;
    expect(scenario.executor).toBe('ramping-arrival-rate');
    expect(scenario.maxVUs as number).toBeGreaterThanOrEqual(100 * 0.1 * 20);
    const tiny = optionsFor(parseK6Env(env({ MAX_VUS: '2' })));
    expect(tiny.scenarios.spike).toMatchObject({ maxVUs: 2, preAllocatedVUs: 2 });
  });
});

describe('execution plan from k6 options', () => {
  it('reads Go durations', () => {
    expect(parseGoDuration('1m30s')).toBe(90);
    expect(parseGoDuration('900ms')).toBeCloseTo(0.9);
    expect(parseGoDuration('1.5s')).toBe(1.5);
    expect(() => parseGoDuration('soon')).toThrow();
  });

  it('integrates the asked rate of arrival-rate executors, and knows none for closed models', () => {
    const plan = executionPlanFromOptions({ scenarios: {
      a: { executor: 'ramping-arrival-rate', startRate: 0, timeUnit: '1s', stages: [{ duration: '10s', target: 100 }] },
      b: { executor: 'constant-arrival-rate', rate: 60, timeUnit: '1m', duration: '20s', startTime: '5s' },
    } });
    expect(plan.totalS).toBe(25);
    expect(askedIterations(plan, 0, 10)).toBeCloseTo(500 + 5, 6); // ramp 0->100 over 10 s, plus 1/s from t=5
    expect(askedIterations(plan, 20, 25)).toBeCloseTo(5, 6);
    const closed = executionPlanFromOptions({ scenarios: { c: { executor: 'constant-vus', vus: 2, duration: '30s' } } });
    expect(closed).toEqual({ totalS: 30, rates: null });
    expect(askedIterations(closed, 0, 1)).toBeUndefined();
  });
});

describe('saturation', () => {
  const second = (iterations: number, targetRate: number, dropped = 0) => ({ iterations, targetRate, dropped }) as LoadRecord;

  it('flags dropped iterations above the tolerance', () => {
    const d = new SaturationDetector();
    expect(d.onSecond(second(100, 100, 5), true)).toBeNull();
    expect(d.onSecond(second(100, 100, 1), true)).toMatch(/dropped 6/);
  });

  it('flags an achieved rate below 95 % of the asked one over the window, not one slow second', () => {
    const d = new SaturationDetector({ windowS: 3, inFlightS: 0 });
    expect(d.onSecond(second(90, 100), true)).toBeNull();
    expect(d.onSecond(second(100, 100), true)).toBeNull();
    expect(d.onSecond(second(100, 100), true)).toBeNull();
    expect(d.onSecond(second(90, 100), true)).toBeNull();
    expect(d.onSecond(second(80, 100), true)).toMatch(/achieved 90.0 iterations\/s of 100.0/);
    // A stalled service: completions lag by seconds (a failover), then catch up. Not the generator's fault.
    const stalled = new SaturationDetector({ windowS: 15 });
    const lagging = [5, 5, 5, 0, 3, 8, 6, 3, 5, 5, 5, 5, 5, 5, 5];
    for (const done of lagging) expect(stalled.onSecond(second(done, 5), true)).toBeNull();
    // A generator that keeps falling short for the whole window is flagged even with the in-flight slack.
    const short = new SaturationDetector({ windowS: 15 });
    const verdicts = Array.from({ length: 15 }, () => short.onSecond(second(3, 5), true));
    expect(verdicts.at(-1)).toMatch(/achieved 3.0 iterations\/s of 5.0/);
    const outside = new SaturationDetector({ windowS: 1 });
    expect(outside.onSecond(second(0, 100), false)).toBeNull();
    expect(outside.final()).toBeNull();
  });

  it('flags k6 using nearly all cores, or waiting for CPU far longer than it runs', () => {
    const d = new SaturationDetector();
    expect(d.onCpu({ cpuS: 9.5, waitS: 0, slices: 1000, wallS: 5, cores: 2 })).toMatch(/95 % of 2 cores/);
    // 5 s of waiting over 200 wake-ups: 25 ms each time, far beyond a latency SLO's resolution.
    expect(d.onCpu({ cpuS: 1, waitS: 5, slices: 200, wallS: 5, cores: 2 })).toMatch(/25\.0 ms on average.*starved/);
    // The same total over 5000 wake-ups is 1 ms each: busy neighbours, not a starved generator.
    expect(d.onCpu({ cpuS: 1, waitS: 5, slices: 5000, wallS: 5, cores: 2 })).toBeNull();
    expect(d.onCpu({ cpuS: 1, waitS: 1, slices: 1000, wallS: 5, cores: 2 })).toBeNull();
  });
});

describe('scenario names', () => {
  it('maps built-in names to their modules, takes other names as paths, refuses missing ones', () => {
    expect(resolveScenario('spike')).toMatch(/scenarios\/spike\.ts$/);
    expect(resolveScenario('load/plan.test.ts', process.cwd())).toMatch(/plan\.test\.ts$/);
    expect(() => resolveScenario('nope')).toThrow(expect.objectContaining({ code: 'SLO_ERR_SCENARIO_UNKNOWN', exitCode: 2 }));
  });

  it('a declaration asks exactly its plan', () => {
    const asked = askedPlanOf(sustainedPlan(params));
    expect(asked.totalS).toBe(60);
    expect(askedIterations(asked, 0, 60)).toBeCloseTo(600, 6);
  });
});
