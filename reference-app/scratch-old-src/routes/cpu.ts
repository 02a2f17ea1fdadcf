// Burns CPU on purpose so load can drive CPU-based autoscaling. Bounded so one request cannot wedge the loop.
import type { FastifyInstance } from 'fastify';

export function burnCpu(ms: number): number {
  const end = performance.now() + ms;
  let iterations = 0;
  let sink = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) sink += Math.sqrt(i * iterations + 1);
    iterations++;
  }
  // Use the result so the loop cannot be optimised away.
  return sink > 0 ? iterations : 0;
}

export function cpuRoutes(app: FastifyInstance, cpuMaxMs: number): void {
  const querystring = {
    type: 'object',
    properties: { ms: { type: 'integer', minimum: 1, maximum: cpuMaxMs } },
    required: ['ms'],
  } as const;
  app.get<{ Querystring: { ms: number } }>('/api/cpu', { schema: { querystring } }, async (request) => {
    const started = performance.now();
    const iterations = burnCpu(request.query.ms);
    return { burnedMs: Math.round(performance.now() - started), iterations };
  });
}
