import Fastify, { LogController } from 'fastify';
import { createMetrics, instrumentHttp } from './src/metrics.ts';
const variant = process.argv[2];
const opts: Record<string, unknown> = { logger: false };
if (variant?.includes('fcc')) opts.forceCloseConnections = 'idle';
if (variant?.includes('r503')) opts.return503OnClosing = false;
if (variant?.includes('lc')) opts.logController = new LogController({ disableRequestLogging: true });
const app = Fastify(opts);
if (variant?.includes('metrics')) instrumentHttp(app, createMetrics('1'));
if (variant?.includes('onsend')) app.addHook('onSend', (_q, reply, payload, done) => { reply.header('x-a', '1'); done(null, payload); });
app.get('/health', async () => ({ status: 'ok' }));
await app.ready();
for (let round = 0; round < 3; round++) {
  for (let i = 0; i < 20000; i += 8) await Promise.all(Array.from({ length: 8 }, () => app.inject('/health')));
  global.gc?.();
  console.log(variant, 'round', round, 'heapUsed MB', (process.memoryUsage().heapUsed / 1e6).toFixed(1));
}
