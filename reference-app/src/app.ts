// The HTTP application, without listen(): tests drive it with inject(), server.ts binds it to a port.
import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type onRequestHookHandler } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';
import { LazyChildLogger } from './logger.ts';
import type { Pool } from './db.ts';
import { describeError, isConnectionError } from './db.ts';
import type { LoopHealth } from './loop-monitor.ts';
import { UNMATCHED_ROUTE, type AppMetrics, type RouteMetrics } from './metrics.ts';
import type { ReadinessView } from './readiness.ts';
import type { TraceRequest } from './telemetry.ts';
import { cpuRoutes } from './routes/cpu.ts';
import { itemRoutes } from './routes/items.ts';
import { orderRoutes } from './routes/orders.ts';
import { probeRoutes } from './routes/probes.ts';

export interface AppDeps {
  appVersion: string;
  instanceId: string;
  cpuMaxMs: number;
  pool: Pool;
  readiness: ReadinessView;
  loop: LoopHealth;
  metrics: AppMetrics;
  /** pino logger (server.ts); logging is off when absent (tests). */
  logger?: FastifyBaseLogger;
  /** A route's request tracer (telemetry.ts), asked once per route; absent or undefined when not traced. */
  traceRoute?: (route: string) => TraceRequest | undefined;
}

const STATEMENT_TIMEOUT = '57014';

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger
      ? {
        loggerInstance: deps.logger,
        // request.log still carries the request id on every line, but the pino child behind it is made
        // only when the request logs something (an error, an order): most requests never do, and making
        // one per request (its bindings serialised, one more object for the GC) was a measurable share
        // of a /health request. It also adds the request's trace ids (request-trace.ts) when it is made.
        childLoggerFactory: (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions, rawRequest: IncomingMessage) => new LazyChildLogger(logger, bindings, options, rawRequest),
      }
      : { logger: false }),
    // On close(): drop idle keep-alive sockets at once, let busy ones finish their request.
    forceCloseConnections: 'idle',
    // A request that still arrives on an open connection while closing is served (with Connection: close)
    // rather than shed with a bare 503 that skips our hooks: the pool is open until close() resolves.
    return503OnClosing: false,
    // Reject unknown body fields instead of silently dropping them.
    ajv: { customOptions: { removeAdditional: false } },
    // No per-request access lines: at thousands of requests/s they cost more than they tell. Metrics and
    // traces cover every request; logs carry lifecycle, writes, warnings and errors.
    logController: new LogController({ disableRequestLogging: true }),
  });

  // What every request gets on arrival: the headers that say who answered, and its place in the metrics
  // (counted in flight, timed against its route template until the response closes). Set when the request
  // arrives, so the error handler, which keeps headers already set, answers with them too; doing it here
  // rather than in an onSend hook spares every reply Fastify's onSend hook chain.
  const arrived = (reply: FastifyReply, route: RouteMetrics): void => {
    reply.header('x-app-version', deps.appVersion);
    reply.header('x-instance-id', deps.instanceId);
    // While draining, make keep-alive clients reconnect (and land on another replica) after this reply.
    if (deps.readiness.isDraining()) reply.header('connection', 'close');
    route.requestStarted(reply.raw, reply.request.method);
  };
  // One route-level onRequest hook per route, made as the route is registered with its template already
  // known: a request runs this one hook, with no per-request lookup of its route (request.routeOptions
  // builds a new object on every call) and no onResponse hook (the response's 'close' records it).
  // When tracing, the same hook starts the request's span and attaches the request's trace (request-trace.ts).
  app.addHook('onRoute', (routeOptions) => {
    const route = deps.metrics.route(routeOptions.url);
    const traced = deps.traceRoute?.(routeOptions.url);
    const hook: onRequestHookHandler = traced
      ? (request, reply, done) => {
        arrived(reply, route);
        traced(request.raw, reply.raw);
        done();
      }
      : (_request, reply, done) => {
        arrived(reply, route);
        done();
      };
    const existing = routeOptions.onRequest;
    routeOptions.onRequest = existing === undefined ? [hook] : [hook, ...(Array.isArray(existing) ? existing : [existing])];
  });

  const unmatched = deps.metrics.route(UNMATCHED_ROUTE);
  app.setNotFoundHandler((request, reply) => {
    arrived(reply, unmatched);
    void reply.code(404).send({ error: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` });
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      return reply.code(400).send({ error: 'bad_request', message: error.message });
    }
    if (isConnectionError(error) || error.code === STATEMENT_TIMEOUT) {
      request.log.warn({ err: describeError(error) }, 'database unavailable');
      return reply.code(503).header('retry-after', '1').send({ error: 'database_unavailable', message: 'the database did not answer; try again shortly' });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return reply.code(status).send({ error: 'bad_request', message: error.message });
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  probeRoutes(app, deps);
  itemRoutes(app, deps.pool);
  orderRoutes(app, deps.pool);
  cpuRoutes(app, deps.cpuMaxMs);

  await app.ready();
  return app;
}
