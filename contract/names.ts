// Names shared by scenarios, load engines, clusters and verifiers. One spelling each, so a scenario, an
// engine and a verifier cannot disagree on what a request or a variable is called. Pure constants.

/** Built-in scenarios; anything else in a step's `scenario` is a path to the user's own scenario or script. */
export const BUILT_IN_SCENARIOS = ['growth', 'spike', 'sustained'] as const;
export type BuiltInScenario = (typeof BUILT_IN_SCENARIOS)[number];

/** Request names of the reference service's mix, as they appear in `byName` of every load record. */
export const REQUEST_NAMES = {
  read: 'GET /api/items/:id',
  write: 'POST /api/orders',
  cpu: 'GET /api/cpu',
} as const;
export type RequestKind = keyof typeof REQUEST_NAMES;

/** Response headers naming the build and the replica that answered (a rollout and the spread over pods). */
export const APP_VERSION_HEADER = 'x-app-version';
export const INSTANCE_ID_HEADER = 'x-instance-id';
/** Request header that makes a write safe to retry: the service answers a repeat with the same order. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** Environment a scenario reads (k6 exposes it as __ENV; the embedded engine gets the same values). */
export const SCENARIO_ENV = {
  baseUrl: 'BASE_URL',
  rateBase: 'RATE_BASE',
  ratePeak: 'RATE_PEAK',
  durationS: 'DURATION_S',
  timeScale: 'TIME_SCALE',
  weights: 'WEIGHTS',
  cpuMs: 'CPU_MS',
  thresholds: 'SLO_THRESHOLDS',
  preAllocatedVUs: 'PRE_VUS',
  maxVUs: 'MAX_VUS',
} as const;

/** Console lines a k6 scenario writes and the k6 engine picks out of its log. */
/** `SLO_PLAN {"startedAtMs":..,"phases":[..]}` once, from setup(): when the executors start and the phases. */
export const PLAN_PREFIX = 'SLO_PLAN ';
/** `SLO_ORDER_ACK <id>` for every order the service acknowledged (2xx with an id): the durability audit. */
export const ORDER_ACK_PREFIX = 'SLO_ORDER_ACK ';
/** k6 counter metric tagged with `version` and `instance` from the x-app-version / x-instance-id headers. */
export const APP_RESPONSES_METRIC = 'app_responses';

/** Run folder files written by the harness and read by `slo verify`, `slo report` and `slo down`. */
export const RUN_FILES = {
  timeline: 'timeline.jsonl',
  meta: 'run.json',
  /** `acked-orders-<step>.txt`: order ids the service acknowledged (the durability audit's input). */
  ackedOrders: (step: string) => `acked-orders-${step}.txt`,
} as const;

/** Load engines: `embedded` (vegeta, built here; the default) and `k6` (only where the user installed k6). */
export const ENGINE_NAMES = ['embedded', 'k6'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];
