import Fastify, { LogController } from 'fastify';
import { pino } from 'pino';
import { execFileSync } from 'node:child_process';
import { buildApp } from './src/app.ts';
import { createMetrics } from './src/metrics.ts';
import type { Pool } from './src/db.ts';
execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
const row = { id: 42, name: 'item-42', price_cents: 1554 };
const pool = { query: async () => ({ rows: [row] }) } as unknown as Pool;
const readiness = { snapshot: () => ({ ready: true, database: 'primary' as const, draining: false }), isDraining: () => false };
const loop = { delayMs: () => 1, healthy: () => true };
const log = pino({ level: 'info', base: { service: 'reference-app', version: '1', instance: 'x' }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (l) => ({ level: l }) } }, pino.destination('/dev/null'));
const full = await buildApp({ appVersion: '1', instanceId: 'x', cpuMaxMs: 500, pool, readiness, loop, metrics: createMetrics('1'), logger: log });
const nolog = await buildApp({ appVersion: '1', instanceId: 'x', cpuMaxMs: 500, pool, readiness, loop, metrics: createMetrics('1') });
function plain(schema: boolean) {
  const app = Fastify({ logger: false });
  const params = { type: 'object', properties: { id: { type: 'integer', minimum: 1, maximum: 2147483647 } }, required: ['id'] } as const;
  const response = { 200: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, priceCents: { type: 'integer' } }, required: ['id', 'name', 'priceCents'] } } as const;
  app.get<{ Params: { id: number } }>('/api/items/:id', schema ? { schema: { params, response } } : {}, async (req) => { const r = await pool.query('x', [req.params.id]); const x = r.rows[0]; return { id: x.id, name: x.name, priceCents: x.price_cents }; });
  app.get('/health', async () => ({ status: 'ok', eventLoopDelayMs: 1 }));
  return app;
}
const apps = { full, nolog, plainSchema: plain(true), plainNoSchema: plain(false) } as Record<string, { inject: typeof full.inject, ready?: () => unknown }>;
for (const a of Object.values(apps)) await (a as { ready: () => Promise<unknown> }).ready();
async function run(app: typeof full, url: string, n: number): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i += 8) await Promise.all(Array.from({ length: 8 }, (_, j) => app.inject(url === 'items' ? `/api/items/${1 + ((i + j) % 1000)}` : url)));
  const c = process.cpuUsage(c0); return (c.user + c.system) / n;
}
for (const url of ['/health', 'items']) {
  const res: Record<string, number[]> = {};
  for (const [k, a] of Object.entries(apps)) { await run(a as typeof full, url, 4000); res[k] = []; }
  for (let r = 0; r < 5; r++) for (const [k, a] of Object.entries(apps)) res[k]!.push(await run(a as typeof full, url, 10000));
  for (const [k, v] of Object.entries(res)) console.log(url.padEnd(8), k.padEnd(14), 'median', [...v].sort((a, b) => a - b)[2]!.toFixed(2), 'us/req', v.map((x) => x.toFixed(1)).join(' '));
}
