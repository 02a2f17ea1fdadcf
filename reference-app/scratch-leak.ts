import { pino } from 'pino';
import { buildApp } from './src/app.ts';
import { createMetrics } from './src/metrics.ts';
import type { Pool } from './src/db.ts';
const row = { id: 42, name: 'item-42', price_cents: 1554 };
const pool = { query: async () => ({ rows: [row] }) } as unknown as Pool;
const readiness = { snapshot: () => ({ ready: true, database: 'primary' as const, draining: false }), isDraining: () => false };
const loop = { delayMs: () => 1, healthy: () => true };
const withLog = process.argv[2] === 'log';
const url = process.argv[3] ?? 'items';
const log = pino({ level: 'info' }, pino.destination('/dev/null'));
const app = await buildApp({ appVersion: '1', instanceId: 'x', cpuMaxMs: 500, pool, readiness, loop, metrics: createMetrics('1'), ...(withLog ? { logger: log } : {}) });
for (let round = 0; round < 6; round++) {
  for (let i = 0; i < 20000; i += 8) await Promise.all(Array.from({ length: 8 }, (_, j) => app.inject(url === 'items' ? `/api/items/${1 + ((i + j) % 1000)}` : url)));
  global.gc?.();
  console.log(process.argv[2], url, 'round', round, 'heapUsed MB', (process.memoryUsage().heapUsed / 1e6).toFixed(1));
}
