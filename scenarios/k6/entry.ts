// The one k6 script of the k6 engine: it carries out a resolved scenario (plan and request mix, the same
// declaration the embedded engine runs) that the harness passes in SLO_SCENARIO. k6 is never built or
// shipped here: this runs only where the user has k6 installed (`--engine k6`).
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { APP_RESPONSES_METRIC, APP_VERSION_HEADER, IDEMPOTENCY_KEY_HEADER, INSTANCE_ID_HEADER, ORDER_ACK_PREFIX, PLAN_PREFIX } from '../../contract/names.ts';
import { parseK6Env } from '../lib/k6-env.ts';
import { optionsFor } from '../lib/options.ts';
import { REQUEST_TIMEOUT_S } from '../lib/plan.ts';
import { fillTemplate, pickRequest, type RequestSpec } from '../lib/scenario.ts';

const env = parseK6Env(__ENV);
const timeout = `${REQUEST_TIMEOUT_S}s`;
const appResponses = new Counter(APP_RESPONSES_METRIC);
// k6 canonicalises response header names.
const canonical = (name: string) => name.split('-').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('-');
const VERSION_HEADER = canonical(APP_VERSION_HEADER);
const INSTANCE_HEADER = canonical(INSTANCE_ID_HEADER);
const callbacks = new Map(env.scenario.requests.map((r) => [r.name, http.expectedStatuses(...r.expectStatus)]));

export const options = optionsFor(env);

/** Tells the runner when the executors start (t=0 of the plan, the actions' time origin). */
export function setup(): void {
  const { plan } = env.scenario;
  console.log(`${PLAN_PREFIX}${JSON.stringify({ startedAtMs: Date.now(), kind: plan.kind, totalS: plan.totalS, phases: plan.phases })}`);
}

function send(request: RequestSpec): void {
  const headers: Record<string, string> = { ...(request.headers ?? {}) };
  if (request.idempotencyKey) headers[IDEMPOTENCY_KEY_HEADER] = `${__VU}-${__ITER}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
  const res = http.request(request.method, `${env.baseUrl}${fillTemplate(request.path)}`, request.body === undefined ? null : fillTemplate(request.body), {
    headers, timeout, tags: { name: request.name }, responseCallback: callbacks.get(request.name),
  });
  if (request.ackJsonField && request.expectStatus.includes(res.status)) {
    let id: unknown;
    try {
      const body = res.json() as Record<string, unknown> | null;
      id = body && typeof body === 'object' ? body[request.ackJsonField] : undefined;
    } catch {
      id = undefined;
    }
    if (id !== undefined && id !== null && id !== '') console.log(`${ORDER_ACK_PREFIX}${String(id)}`);
  }
  const version = res.headers[VERSION_HEADER];
  const instance = res.headers[INSTANCE_HEADER];
  if (version !== undefined || instance !== undefined) appResponses.add(1, { version: version ?? 'unknown', instance: instance ?? 'unknown' });
}

/** One iteration = one request, so the iterations/s the executor asks for is requests/s. */
export default function (): void {
  send(pickRequest(env.scenario.requests, Math.random()));
}
