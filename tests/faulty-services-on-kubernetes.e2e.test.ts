// Faulty services on the real Kubernetes cluster fail the SLO their fault breaks, for the reason they would on
// any cluster, and the same service without the fault passes: a verifier that cannot fail is worthless, and so
// is one that fails a healthy service. The stand-in service runs in pods through `--app` with one fault
// switched on (testing/stand-in-service.ts): slow answers; readiness that says ready while the service still
// answers 503 (warming up); writes acknowledged but kept in memory, never in the database. The service that
// exits at once on SIGTERM is in the default run (rollout-on-kubernetes.test.ts). Root only; ~2 minutes per
// test (a bring-up each). Behind `npm run test:e2e`.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { standInCommand } from '../testing/stand-in-service.ts';
import { ROOT, ofType, runsFolder, sloRun } from './support/slo-run.ts';

const root = process.getuid?.() === 0;
const runs = runsFolder('slo-faulty-kube-');
afterAll(() => runs.cleanup());

const SPEC = join(ROOT, 'tests', 'fixtures', 'faulty-services.yaml');
/** The stand-in sleeps rather than burns for /api/cpu: no autoscaling is wanted here. */
const service = (env: Record<string, string>) => standInCommand({ STAND_IN_CPU: 'sleep', ...env });
const run = (name: string, step: string, env: Record<string, string>) =>
  sloRun(runs, name, ['--profile', 'check', '--config', SPEC, '--steps', step, '--app', service(env)]);

describe.runIf(root)('faulty services on the real cluster', () => {
  it('a slow service (300 ms per read) fails the latency SLO (exit 1), and only that', async () => {
    const result = await run('slow', 'steady', { STAND_IN_READ_DELAY_MS: '300' });
    expect(result.exitCode, result.output).toBe(1);
    expect(result.summary.failed.filter((id) => !id.startsWith('latency.'))).toEqual([]);
    expect(result.summary.failed).toContain('latency.p95');
  });

  it('a service whose readiness lies through a 5 s warm-up fails the rollout SLO (exit 1): new pods get traffic they answer 503', async () => {
    const result = await run('readiness-lies', 'rollout', { STAND_IN_WARMUP_MS: '5000', STAND_IN_READINESS: 'always' });
    expect(result.exitCode, result.output).toBe(1);
    expect(result.summary.failed).toContain('rollout.failedRequests');
    // The rollout itself completed the Kubernetes way: every old pod replaced by a new one that said ready.
    expect(ofType(result.events, 'rollout').map((e) => e.data.state)).toContain('complete');
    expect(ofType(result.events, 'pod.stop').filter((e) => e.data.reason === 'rollout').length).toBe(3);
  });

  it('the same warm-up with honest readiness: the rollout loses nothing (exit 0)', async () => {
    const result = await run('readiness-honest', 'rollout', { STAND_IN_WARMUP_MS: '5000' });
    expect(result.exitCode, result.output).toBe(0);
    expect(ofType(result.events, 'rollout').map((e) => e.data.state)).toContain('complete');
  });

  it('a service that acknowledges writes it never stores fails the lost-writes SLO of a failover (exit 1)', async () => {
    const result = await run('lost-writes', 'failover', {});
    expect(result.exitCode, result.output).toBe(1);
    expect(result.summary.failed).toContain('failover.lostWrites');
    // Audited in the database the failover moved: every acknowledged order is missing from it.
    const [audit] = ofType(result.events, 'writes.audit');
    expect(audit?.data.acknowledged).toBeGreaterThan(100);
    expect(audit?.data.missing).toBe(audit?.data.acknowledged);
    expect(audit?.data.missingIds.length).toBeGreaterThan(0);
    expect(ofType(result.events, 'db.role').some((e) => e.data.role === 'primary')).toBe(true);
  });
});
