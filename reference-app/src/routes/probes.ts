// /health (liveness: is this process able to serve at all?), /ready (should traffic come here now?) and
// /metrics. None of them touches the request pool.
import type { FastifyInstance } from 'fastify';
import type { LoopHealth } from '../loop-monitor.ts';
import type { AppMetrics } from '../metrics.ts';
import type { ReadinessView } from '../readiness.ts';

export interface ProbeDeps {
  loop: LoopHealth;
  readiness: ReadinessView;
  metrics: AppMetrics;
}

export function probeRoutes(app: FastifyInstance, deps: ProbeDeps): void {
  const healthBody = { type: 'object', properties: { status: { type: 'string' }, eventLoopDelayMs: { type: 'integer' } } } as const;
  const healthResponse = { 200: healthBody, 503: healthBody } as const;
  // Synchronous on purpose (an async handler costs a promise and a microtask turn per probe), and it sends
  // rather than returns: a synchronous handler that returned the reply would have it sent twice.
  app.get('/health', { schema: { response: healthResponse } }, (_request, reply) => {
    const healthy = deps.loop.healthy();
    void reply.code(healthy ? 200 : 503).send({ status: healthy ? 'ok' : 'unhealthy', eventLoopDelayMs: Math.round(deps.loop.delayMs()) });
  });

  app.get('/ready', async (_request, reply) => {
    const snapshot = deps.readiness.snapshot();
    return reply.code(snapshot.ready ? 200 : 503).send({ status: snapshot.ready ? 'ready' : 'not_ready', ...snapshot });
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });
}
