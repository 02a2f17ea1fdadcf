// A scenario, declared once: its arrival-rate plan and its request mix, as plain data. Both load engines carry
// out this one declaration: the embedded engine receives it as JSON, and the k6 engine runs it through the
// generic k6 script in scenarios/k6/entry.ts. Pure: no k6 and no Node imports, so Node, k6 and the tests can
// all load a scenario module.
import type { LoadPlan, PlanParams } from './plan.ts';

/** One kind of request in the mix. `{int:a:b}` in `path` or `body` is a uniform random integer in [a, b]. */
export interface RequestSpec {
  /** The name every engine reports it under (the `byName` key of the timeline), e.g. "GET /api/items/:id". */
  name: string;
  /** Relative share of arrivals; need not sum to 100. */
  weight: number;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query, appended to the target's base URL. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Adds a unique Idempotency-Key header to every request (a retry would reuse it). */
  idempotencyKey?: boolean;
  /** On an expected status, this JSON field of the body is an acknowledged id (the durability audit). */
  ackJsonField?: string;
  /** Statuses that count as success; anything else (or no response) is a failed request. */
  expectStatus: number[];
}

/** What the harness passes to a scenario: the step's rates, length and mix settings. */
export interface ScenarioParams extends PlanParams {
  weights: { read: number; write: number; cpu: number };
  cpuMs: number;
}

export interface ScenarioDefinition {
  /** Shown in the timeline and reports. */
  name: string;
  plan(params: ScenarioParams): LoadPlan;
  requests(params: ScenarioParams): RequestSpec[];
}

/** A scenario module's default export. Checks the declaration's shape so a typo fails at load, not mid-run. */
export function defineScenario(definition: ScenarioDefinition): ScenarioDefinition {
  if (typeof definition.name !== 'string' || typeof definition.plan !== 'function' || typeof definition.requests !== 'function') {
    throw new Error('defineScenario needs { name, plan(params), requests(params) }');
  }
  return definition;
}

/** The plan and mix of one step, resolved: what an engine receives. */
export interface ResolvedScenario {
  name: string;
  plan: LoadPlan;
  requests: RequestSpec[];
}

export function resolveScenarioDefinition(definition: ScenarioDefinition, params: ScenarioParams): ResolvedScenario {
  const requests = definition.requests(params).filter((r) => r.weight > 0);
  if (requests.length === 0) throw new Error(`scenario ${definition.name}: every request has weight 0`);
  return { name: definition.name, plan: definition.plan(params), requests };
}

/** Replaces each `{int:a:b}` with a uniform random integer in [a, b]; `random` in [0, 1). */
export function fillTemplate(template: string, random: () => number = Math.random): string {
  return template.replace(/\{int:(-?\d+):(-?\d+)\}/g, (_m, a: string, b: string) => {
    const low = Number(a);
    const high = Number(b);
    return String(low + Math.floor(random() * (high - low + 1)));
  });
}

/** Picks a request with probability proportional to its weight; `x` in [0, 1). */
export function pickRequest(requests: readonly RequestSpec[], x: number): RequestSpec {
  const total = requests.reduce((sum, r) => sum + r.weight, 0);
  let at = x * total;
  for (const request of requests) {
    if (at < request.weight) return request;
    at -= request.weight;
  }
  return requests[requests.length - 1] as RequestSpec;
}
