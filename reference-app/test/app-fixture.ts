// buildApp() wired to a real PostgreSQL the way main.ts wires it, minus listen(), for inject() tests.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import { createPool, type Pool } from '../src/db.ts';
import { EventLoopMonitor } from '../src/loop-monitor.ts';
import { createMetrics, type AppMetrics } from '../src/metrics.ts';
import { migrate } from '../src/migrate.ts';
import { Readiness } from '../src/readiness.ts';

export const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface AppFixture {
  app: FastifyInstance;
  pool: Pool;
  readiness: Readiness;
  metrics: AppMetrics;
  close(): Promise<void>;
}

export async function startAppFixture(databaseUrl: string, overrides: { probeIntervalMs?: number; cpuMaxMs?: number; logger?: FastifyBaseLogger } = {}): Promise<AppFixture> {
  const settings = { databaseUrl, dbPoolMax: 10, dbStatementTimeoutMs: 3000, dbConnectTimeoutMs: 1000, instanceId: 'test-instance' };
  const pool = createPool(settings, quietLog);
  const readiness = new Readiness(createPool(settings, quietLog, 1), overrides.probeIntervalMs ?? 200, quietLog);
  pool.on('error', (err) => readiness.markDatabaseSuspect(err.message));
  const loop = new EventLoopMonitor(5000).start();
  await migrate(pool);
  await readiness.start();
  const metrics = createMetrics('9.9.9-test');
  const app = await buildApp({
    appVersion: '9.9.9-test',
    instanceId: 'test-instance',
    cpuMaxMs: overrides.cpuMaxMs ?? 500,
    pool,
    readiness,
    loop,
    metrics,
    ...(overrides.logger ? { logger: overrides.logger } : {}),
  });
  return {
    app,
    pool,
    readiness,
    metrics,
    async close() {
      await app.close();
      loop.stop();
      await readiness.stop();
      await pool.end();
    },
  };
}
