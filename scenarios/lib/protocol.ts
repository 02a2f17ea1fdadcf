// Fixed prefixes of console lines the runner (harness/load/run-k6.ts) picks out of k6's log. Pure.
/** `SLO_PLAN {"startedAtMs":..,"phases":[..]}` once, from setup(): when the executors start and the phases. */
export const PLAN_PREFIX = 'SLO_PLAN ';
/** `SLO_ORDER_ACK <id>` for every order the service acknowledged (2xx with an id): the durability audit. */
export const ORDER_ACK_PREFIX = 'SLO_ORDER_ACK ';
/** Counter metric tagged with `version` and `instance` from the x-app-version / x-instance-id headers. */
export const APP_RESPONSES_METRIC = 'app_responses';
