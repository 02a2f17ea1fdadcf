// Wiring: logger, pools, migration, probes, app, listen, signals. Imported by server.ts once the
// configuration is read and telemetry has started.
import type { Logger } from 'pino';
import { buildApp } from './app.ts';
import type { AppConfig } from './config.ts';
import { createPool, describeError } from './db.ts';
import { createLogger } from './logger.ts';
import { EventLoopMonitor } from './loop-monitor.ts';
import { createMetrics } from './metrics.ts';
import { migrate } from './migrate.ts';
import { Readiness } from './readiness.ts';
import { createShutdown } from './shutdown.ts';
import type { Telemetry } from './telemetry.ts';

/** The database may come up after us (same rollout, failover in progress): wait this long for it. */
const MIGRATE_DEADLINE_MS = 60_000;
/** How long exiting waits for queued log lines to be written (a stalled reader never drains). */
const LOG_CLOSE_TIMEOUT_MS = 2000;

export async function run(config: AppConfig, telemetry: Telemetry): Promise<void> {
  const logger = createLogger(config);
  const log = logger.log;

  const pool = createPool(config, log);
  // Readiness gets its own single connection so a saturated request pool never fails the probe.
  const probePool = createPool({ ...config, dbStatementTimeoutMs: Math.min(config.dbStatementTimeoutMs, 2000) }, log, 1);
  const readiness = new Readiness(probePool, config.dbProbeIntervalMs, log);
  pool.on('error', (err) => readiness.markDatabaseSuspect(describeError(err).message));
  const loop = new EventLoopMonitor(config.healthMaxEventLoopDelayMs).start();

  let stopping = false;
  const exit = (code: number): void => {
    void logger.close(LOG_CLOSE_TIMEOUT_MS).finally(() => process.exit(code));
  };
  // A signal before we listen (e.g. still waiting for the database) just ends the process cleanly.
  const earlyStop = (): void => {
    stopping = true;
    void Promise.allSettled([pool.end(), probePool.end(), telemetry.shutdown()]).then(() => exit(0));
  };
  process.once('SIGTERM', earlyStop);
  process.once('SIGINT', earlyStop);

  await migrateWhenReachable(pool, log, () => stopping);
  if (stopping) return;
  await readiness.start();

  const metrics = createMetrics(config.appVersion, { droppedLogLines: logger.droppedLines });
  const app = await buildApp({
    appVersion: config.appVersion,
    instanceId: config.instanceId,
    cpuMaxMs: config.cpuMaxMs,
    pool,
    readiness,
    loop,
    metrics,
    logger: log,
    traceRoute: (route) => telemetry.traceRoute(route),
  });
  if (stopping) return;
  await app.listen({ port: config.port, host: config.host });

  const shutdown = createShutdown({
    startDraining: () => readiness.startDraining(),
    closeServer: () => app.close(),
    closeResources: async () => {
      loop.stop();
      await readiness.stop();
      await pool.end();
      await telemetry.shutdown();
    },
    drainDelayMs: config.drainDelayMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    log,
    exit,
  });
  process.removeListener('SIGTERM', earlyStop);
  process.removeListener('SIGINT', earlyStop);
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  log.info({ port: (app.server.address() as { port?: number } | null)?.port, tracing: telemetry.enabled }, 'listening');
}

async function migrateWhenReachable(pool: ReturnType<typeof createPool>, log: Logger, stopped: () => boolean): Promise<void> {
  const deadline = Date.now() + MIGRATE_DEADLINE_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await migrate(pool);
      log.info({ attempt }, 'schema ready');
      return;
    } catch (err) {
      if (stopped()) return;
      if (Date.now() > deadline) throw err;
      log.warn({ attempt, err: describeError(err) }, 'database not ready for migration; retrying');
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * attempt, 5000)));
    }
  }
}
