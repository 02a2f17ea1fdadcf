// A request's trace, carried explicitly: the route's hook attaches it to the request (telemetry.ts makes
// it), the handler hands it to the database functions, which time each statement under it, and the
// request's logger reads its ids. Explicit rather than an ambient context because the ambient one costs
// every request, traced or not: on Node 20 OpenTelemetry's context manager is an AsyncLocalStorage, whose
// async hook writes the store onto every promise and async resource the process creates (the pool's, the
// socket's, Fastify's), and the pg and pino instrumentations that read it patch the modules as they load.
// That was more than half of what tracing a tenth of the requests cost a request under load (11.5 of
// 60 us; 4.3 now: bench/RESULTS.md, the reference service's fifth pass). This module imports nothing of OpenTelemetry: with tracing off, every
// request gets UNTRACED and no SDK is loaded.
import type { IncomingMessage } from 'node:http';

/** Ends a statement's span: with the error it failed with, or none. */
export type EndStatement = (error?: unknown) => void;

/** Where a pool's statements go, as a statement span names it. */
export interface DatabasePeer {
  /** The database name (`db.namespace`). */
  readonly namespace: string | undefined;
  readonly address: string | undefined;
  readonly port: number | undefined;
}

export interface RequestTrace {
  /** Whether statements are recorded: false for a request the sampler left out and when tracing is off. */
  readonly recording: boolean;
  /**
   * `trace_id`, `span_id` and `trace_flags` for the request's log lines (flags `00` when the sampler left
   * it out: its lines still join its callers' logs), or undefined when tracing is off.
   */
  logFields(): Readonly<Record<string, string>> | undefined;
  /** Starts the span of one SQL statement under the request's span; call only when `recording`. */
  statement(text: string, peer: DatabasePeer): EndStatement;
}

const endNothing: EndStatement = () => undefined;

/** Tracing off, or a request outside the traced routes: nothing recorded, no ids to log. */
export const UNTRACED: RequestTrace = {
  recording: false,
  logFields: () => undefined,
  statement: () => endNothing,
};

// On the raw request, so the request's logger (made by Fastify from the raw request) finds it too.
const TRACE = Symbol('reference-app.requestTrace');

interface WithTrace {
  [TRACE]?: RequestTrace;
}

export function attachTrace(request: IncomingMessage, trace: RequestTrace): void {
  (request as WithTrace)[TRACE] = trace;
}

export function traceOf(request: IncomingMessage): RequestTrace {
  return (request as WithTrace)[TRACE] ?? UNTRACED;
}
