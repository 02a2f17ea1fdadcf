// Environment -> typed configuration. Every variable is validated up front so a typo fails the pod at once
// with one readable line (SLO_ERR_APP_CONFIG, exit 2) instead of misbehaving under load later.
import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError } from './config-error.ts';

export interface AppConfig {
  port: number;
  host: string;
  databaseUrl: string;
  appVersion: string;
  instanceId: string;
  /** How long to keep serving after SIGTERM while endpoints propagate (the job preStop does in Kubernetes). */
  drainDelayMs: number;
  /** Hard deadline from the signal to exit; past it the process exits 1. */
  shutdownTimeoutMs: number;
  dbPoolMax: number;
  /** Per-connection statement_timeout and client-side query_timeout, so no query hangs forever. */
  dbStatementTimeoutMs: number;
  dbConnectTimeoutMs: number;
  /** How often readiness asks the database whether a primary answers. */
  dbProbeIntervalMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  cpuMaxMs: number;
  /** Liveness fails once the event loop lags longer than this (a wedged process, not a busy one). */
  healthMaxEventLoopDelayMs: number;
}

type Env = Record<string, string | undefined>;

function integer(name: string, min: number, max: number, fallback: number) {
  const rule = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return fallback;
      const value = /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be ${rule}, got ${JSON.stringify(raw)}` });
        return z.NEVER;
      }
      return value;
    });
}

function text(name: string, fallback: string) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return fallback;
      if (raw.trim() === '') {
        ctx.addIssue({ code: 'custom', message: `${name} must not be empty` });
        return z.NEVER;
      }
      return raw.trim();
    });
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The head samplers OTEL_TRACES_SAMPLER may name (the specification's; telemetry.ts builds them). */
export const TRACE_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type TraceSamplerName = (typeof TRACE_SAMPLERS)[number];

// Read by telemetry.ts; checked here so a typo fails the pod at once like any other variable, rather than
// tracing every request (the specification's fallback) while the deployment believes it samples.
const traceSampler = z
  .string()
  .optional()
  .refine((raw) => raw === undefined || raw.trim() === '' || (TRACE_SAMPLERS as readonly string[]).includes(raw.trim().toLowerCase()), {
    error: (issue) => `OTEL_TRACES_SAMPLER must be one of ${TRACE_SAMPLERS.join(', ')}, got ${JSON.stringify(issue.input)}`,
  });

const traceSamplerArg = z
  .string()
  .optional()
  .refine((raw) => raw === undefined || raw.trim() === '' || (/^\s*[0-9.eE+-]+\s*$/.test(raw) && Number(raw) >= 0 && Number(raw) <= 1), {
    error: (issue) => `OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, got ${JSON.stringify(issue.input)}`,
  });

const databaseUrl = z
  .string({ error: 'DATABASE_URL is required (postgres://user:password@host:port/database)' })
  .transform((raw, ctx) => {
    let protocol = '';
    try {
      protocol = new URL(raw).protocol;
    } catch {
      // fall through to the issue below
    }
    if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
      ctx.addIssue({ code: 'custom', message: `DATABASE_URL must be a postgres:// or postgresql:// URL, got ${JSON.stringify(raw.replace(/:[^:@/]*@/, ':***@'))}` });
      return z.NEVER;
    }
    return raw;
  });

function schema(defaultInstanceId: string) {
  return z.object({
    PORT: integer('PORT', 0, 65535, 8080),
    HOST: text('HOST', '0.0.0.0'),
    DATABASE_URL: databaseUrl,
    APP_VERSION: text('APP_VERSION', '1.0.0'),
    INSTANCE_ID: text('INSTANCE_ID', defaultInstanceId),
    DRAIN_DELAY_MS: integer('DRAIN_DELAY_MS', 0, Number.MAX_SAFE_INTEGER, 5000),
    SHUTDOWN_TIMEOUT_MS: integer('SHUTDOWN_TIMEOUT_MS', 1, Number.MAX_SAFE_INTEGER, 20000),
    DB_POOL_MAX: integer('DB_POOL_MAX', 1, 1000, 10),
    DB_STATEMENT_TIMEOUT_MS: integer('DB_STATEMENT_TIMEOUT_MS', 1, Number.MAX_SAFE_INTEGER, 5000),
    DB_CONNECT_TIMEOUT_MS: integer('DB_CONNECT_TIMEOUT_MS', 1, Number.MAX_SAFE_INTEGER, 2000),
    DB_PROBE_INTERVAL_MS: integer('DB_PROBE_INTERVAL_MS', 50, Number.MAX_SAFE_INTEGER, 1000),
    LOG_LEVEL: z
      .string()
      .optional()
      .transform((raw, ctx) => {
        const value = (raw ?? 'info').trim().toLowerCase();
        if (!(LOG_LEVELS as readonly string[]).includes(value)) {
          ctx.addIssue({ code: 'custom', message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}` });
          return z.NEVER;
        }
        return value as AppConfig['logLevel'];
      }),
    CPU_MAX_MS: integer('CPU_MAX_MS', 1, 60_000, 500),
    HEALTH_MAX_EVENT_LOOP_DELAY_MS: integer('HEALTH_MAX_EVENT_LOOP_DELAY_MS', 1, Number.MAX_SAFE_INTEGER, 5000),
    OTEL_TRACES_SAMPLER: traceSampler,
    OTEL_TRACES_SAMPLER_ARG: traceSamplerArg,
  });
}

/** Parse the environment; throws a ConfigError (SLO_ERR_APP_CONFIG) naming the first bad variable and what it allows. */
export function loadConfig(env: Env = process.env): AppConfig {
  const parsed = schema(`${hostname()}-${process.pid}`).safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(issue?.message ?? 'invalid environment');
  }
  const v = parsed.data;
  return {
    port: v.PORT,
    host: v.HOST,
    databaseUrl: v.DATABASE_URL,
    appVersion: v.APP_VERSION,
    instanceId: v.INSTANCE_ID,
    drainDelayMs: v.DRAIN_DELAY_MS,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    dbPoolMax: v.DB_POOL_MAX,
    dbStatementTimeoutMs: v.DB_STATEMENT_TIMEOUT_MS,
    dbConnectTimeoutMs: v.DB_CONNECT_TIMEOUT_MS,
    dbProbeIntervalMs: v.DB_PROBE_INTERVAL_MS,
    logLevel: v.LOG_LEVEL,
    cpuMaxMs: v.CPU_MAX_MS,
    healthMaxEventLoopDelayMs: v.HEALTH_MAX_EVENT_LOOP_DELAY_MS,
  };
}
