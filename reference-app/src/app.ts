// The HTTP application, without listen(): tests drive it with inject(), server.ts binds it to a port.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Pool } from './db.ts';
import { describeError, isConnectionError } from './db.ts';
import type { LoopHealth } from './loop-monitor.ts';
import { instrumentHttp, type AppMetrics } from './metrics.ts';
import type { ReadinessView } from './readiness.ts';
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
}

const STATEMENT_TIMEOUT = '57014';

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
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

  // Every response says who answered. Set when the request arrives: onRequest runs for every routed
  // request, 404s included, and the error handler keeps headers already set, so errors carry them too;
  // doing it here rather than in an onSend hook spares every reply Fastify's onSend hook chain.
  app.addHook('onRequest', (_request, reply, done) => {
    reply.header('x-app-version', deps.appVersion);
    reply.header('x-instance-id', deps.instanceId);
    // While draining, make keep-alive clients reconnect (and land on another replica) after this reply.
    if (deps.readiness.isDraining()) reply.header('connection', 'close');
    done();
  });

  instrumentHttp(app, deps.metrics);

  app.setNotFoundHandler((request, reply) => {
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
