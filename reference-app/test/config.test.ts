// Configuration: defaults, and every bad value is one readable line naming the variable (exit 2, no stack).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { spawnServerRaw } from './spawn-server.ts';

const DB = 'postgres://app:secret@db:5432/app';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({ DATABASE_URL: DB });
    expect(config).toMatchObject({
      port: 8080, host: '0.0.0.0', databaseUrl: DB, appVersion: '1.0.0', drainDelayMs: 5000,
      shutdownTimeoutMs: 20000, dbPoolMax: 10, logLevel: 'info', cpuMaxMs: 500,
    });
    expect(config.instanceId).toMatch(/-\d+$/);
  });

  it('reads every variable, PORT=0 included', () => {
    const config = loadConfig({
      DATABASE_URL: DB, PORT: '0', HOST: '127.0.0.1', APP_VERSION: '2.0.0', INSTANCE_ID: 'pod-a', DRAIN_DELAY_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '3000', DB_POOL_MAX: '4', LOG_LEVEL: 'WARN', CPU_MAX_MS: '100',
    });
    expect(config).toMatchObject({ port: 0, host: '127.0.0.1', appVersion: '2.0.0', instanceId: 'pod-a', drainDelayMs: 0, shutdownTimeoutMs: 3000, dbPoolMax: 4, logLevel: 'warn', cpuMaxMs: 100 });
  });

  it.each([
    [{ DATABASE_URL: DB, DRAIN_DELAY_MS: 'abc' }, 'SLO_ERR_APP_CONFIG: DRAIN_DELAY_MS must be an integer >= 0, got "abc"'],
    [{ DATABASE_URL: DB, PORT: '70000' }, 'SLO_ERR_APP_CONFIG: PORT must be an integer from 0 to 65535, got "70000"'],
    [{ DATABASE_URL: DB, DB_POOL_MAX: '0' }, 'SLO_ERR_APP_CONFIG: DB_POOL_MAX must be an integer from 1 to 1000, got "0"'],
    [{ DATABASE_URL: DB, CPU_MAX_MS: '1.5' }, 'SLO_ERR_APP_CONFIG: CPU_MAX_MS must be an integer from 1 to 60000, got "1.5"'],
    [{ DATABASE_URL: DB, LOG_LEVEL: 'loud' }, 'SLO_ERR_APP_CONFIG: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{}, 'SLO_ERR_APP_CONFIG: DATABASE_URL is required (postgres://user:password@host:port/database)'],
    [{ DATABASE_URL: 'mysql://u:pw@h/db' }, 'SLO_ERR_APP_CONFIG: DATABASE_URL must be a postgres:// or postgresql:// URL, got "mysql://u:***@h/db"'],
    [{ DATABASE_URL: DB, OTEL_TRACES_SAMPLER: 'ratio' }, 'SLO_ERR_APP_CONFIG: OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio, got "ratio"'],
    [{ DATABASE_URL: DB, OTEL_TRACES_SAMPLER_ARG: '10%' }, 'SLO_ERR_APP_CONFIG: OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, got "10%"'],
    [{ DATABASE_URL: DB, OTEL_TRACES_SAMPLER_ARG: '1.5' }, 'SLO_ERR_APP_CONFIG: OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, got "1.5"'],
  ])('rejects %j with one line', (env, line) => {
    let message = '';
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toMatchObject({ code: 'SLO_ERR_APP_CONFIG', exitCode: 2 });
      message = (err as { oneLine(): string }).oneLine();
    }
    expect(message).toBe(line);
  });

  it('takes the samplers by their specification names, in any case', () => {
    expect(() => loadConfig({ DATABASE_URL: DB, OTEL_TRACES_SAMPLER: 'ParentBased_TraceIdRatio', OTEL_TRACES_SAMPLER_ARG: '0.1' })).not.toThrow();
    expect(() => loadConfig({ DATABASE_URL: DB, OTEL_TRACES_SAMPLER: 'always_off' })).not.toThrow();
  });
});

describe('the real entry point with a bad variable', () => {
  it('PORT=abc: exit 2, exactly one stderr line naming PORT, no stack, nothing on stdout', async () => {
    const server = spawnServerRaw({ PORT: 'abc', DATABASE_URL: DB });
    const { code } = await server.exited;
    expect(code).toBe(2);
    const lines = server.stderr().split('\n').filter((l) => l.length > 0);
    expect(lines).toEqual(['SLO_ERR_APP_CONFIG: PORT must be an integer from 0 to 65535, got "abc"']);
    expect(server.stdoutLines).toEqual([]);
  });
});
