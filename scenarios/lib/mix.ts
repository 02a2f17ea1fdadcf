// The weighted request mix against the reference service, shared by every built-in scenario (k6 only).
import http, { type RefinedResponse, type ResponseType } from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { pickKind, type ScenarioEnv } from './env.ts';
import { REQUEST_TIMEOUT_S, type LoadPlan } from './plan.ts';

const timeout = `${REQUEST_TIMEOUT_S}s`;
import { APP_RESPONSES_METRIC, ORDER_ACK_PREFIX, PLAN_PREFIX } from '../../contract/names.ts';

const appResponses = new Counter(APP_RESPONSES_METRIC);

function jsonField(res: RefinedResponse<ResponseType | undefined>, field: string): unknown {
  try {
    const body = res.json() as Record<string, unknown> | null;
    return body && typeof body === 'object' ? body[field] : undefined;
  } catch {
    return undefined;
  }
}

// Which build and which replica answered: lets the harness see a rollout and the spread across pods per
// second. k6 canonicalises header names.
function countServer(res: RefinedResponse<ResponseType | undefined>): void {
  const version = res.headers['X-App-Version'];
  const instance = res.headers['X-Instance-Id'];
  if (version === undefined && instance === undefined) return;
  appResponses.add(1, { version: version ?? 'unknown', instance: instance ?? 'unknown' });
}

function read(env: ScenarioEnv): void {
  const id = 1 + Math.floor(Math.random() * 1000);
  const res = http.get(`${env.baseUrl}/api/items/${id}`, { timeout, tags: { name: 'GET /api/items/:id' } });
  check(res, {
    'item status 200': (r) => r.status === 200,
    'item body has the id': (r) => Number(jsonField(r, 'id')) === id,
  });
  countServer(res);
}

function write(env: ScenarioEnv): void {
  const order = { itemId: 1 + Math.floor(Math.random() * 1000), quantity: 1 + Math.floor(Math.random() * 5) };
  // Unique per attempt; a client retry would reuse it (the service then answers 200 with the same id).
  const key = `${__VU}-${__ITER}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
  const res = http.post(`${env.baseUrl}/api/orders`, JSON.stringify(order), {
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
    timeout,
    tags: { name: 'POST /api/orders' },
  });
  const id = res.status === 201 || res.status === 200 ? jsonField(res, 'id') : undefined;
  check(res, {
    'order status 201/200': (r) => r.status === 201 || r.status === 200,
    'order body has an id': () => id !== undefined && id !== null && id !== '',
  });
  if (id !== undefined && id !== null && id !== '') console.log(`${ORDER_ACK_PREFIX}${String(id)}`);
  countServer(res);
}

function cpu(env: ScenarioEnv): void {
  const res = http.get(`${env.baseUrl}/api/cpu?ms=${env.cpuMs}`, { timeout, tags: { name: 'GET /api/cpu' } });
  check(res, { 'cpu status 200': (r) => r.status === 200 });
  countServer(res);
}

/** One iteration = one request, so iterations/s asked by the executor is requests/s. */
export function iteration(env: ScenarioEnv): void {
  const kind = pickKind(env.weights, Math.random());
  if (kind === 'read') read(env);
  else if (kind === 'write') write(env);
  else cpu(env);
}

/** Call from setup(): tells the runner when the executors start and what the phases are. */
export function announcePlan(plan: LoadPlan): void {
  console.log(`${PLAN_PREFIX}${JSON.stringify({ startedAtMs: Date.now(), kind: plan.kind, totalS: plan.totalS, phases: plan.phases })}`);
}
