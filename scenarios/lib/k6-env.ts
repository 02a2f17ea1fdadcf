// What the generic k6 script (scenarios/k6/entry.ts) reads from its environment: the resolved scenario (plan
// and mix) as JSON, the target, thresholds and VU overrides. Pure, so Node tests check the parsing; a bad
// value throws with the variable's name instead of running a wrong load.
import { SCENARIO_ENV } from '../../contract/names.ts';
import type { LoadPlan } from './plan.ts';
import type { RequestSpec, ResolvedScenario } from './scenario.ts';
import { parseThresholds, type Thresholds } from './thresholds.ts';

/** The environment variable that carries the resolved scenario to k6. */
export const SCENARIO_JSON_ENV = 'SLO_SCENARIO';

export interface K6Env {
  baseUrl: string;
  scenario: ResolvedScenario;
  thresholds: Thresholds;
  /** Overrides of the VU sizing (tests use a tiny maxVUs to prove saturation is caught). */
  preAllocatedVUs?: number;
  maxVUs?: number;
}

function positiveInt(env: Record<string, string | undefined>, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}=${raw} must be an integer >= 1`);
  return value;
}

function isRequest(value: unknown): value is RequestSpec {
  const r = value as Partial<RequestSpec> | null;
  return !!r && typeof r.name === 'string' && typeof r.weight === 'number' && typeof r.method === 'string' && typeof r.path === 'string' && Array.isArray(r.expectStatus);
}

function isPlan(value: unknown): value is LoadPlan {
  const p = value as Partial<LoadPlan> | null;
  return !!p && typeof p.startRate === 'number' && Array.isArray(p.stages) && typeof p.totalS === 'number' && typeof p.peakRate === 'number';
}

export function parseK6Env(env: Record<string, string | undefined>): K6Env {
  const baseUrl = env[SCENARIO_ENV.baseUrl];
  if (!baseUrl) throw new Error(`${SCENARIO_ENV.baseUrl} is required (e.g. http://127.0.0.1:8080)`);
  const raw = env[SCENARIO_JSON_ENV];
  if (!raw) throw new Error(`${SCENARIO_JSON_ENV} is required: the resolved scenario as JSON (the harness sets it)`);
  let scenario: unknown;
  try {
    scenario = JSON.parse(raw);
  } catch {
    throw new Error(`${SCENARIO_JSON_ENV} is not JSON`);
  }
  const s = scenario as Partial<ResolvedScenario>;
  if (typeof s.name !== 'string' || !isPlan(s.plan) || !Array.isArray(s.requests) || !s.requests.every(isRequest) || s.requests.length === 0) {
    throw new Error(`${SCENARIO_JSON_ENV} must be { name, plan, requests: [...] } (a resolved scenario)`);
  }
  const parsed: K6Env = { baseUrl: baseUrl.replace(/\/+$/, ''), scenario: s as ResolvedScenario, thresholds: parseThresholds(env[SCENARIO_ENV.thresholds]) };
  const pre = positiveInt(env, SCENARIO_ENV.preAllocatedVUs);
  const max = positiveInt(env, SCENARIO_ENV.maxVUs);
  if (pre !== undefined) parsed.preAllocatedVUs = pre;
  if (max !== undefined) parsed.maxVUs = max;
  return parsed;
}
