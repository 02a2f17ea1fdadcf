// A rolling update on real Kubernetes that a bad service fails for the reason it does on any cluster: a
// service that exits at once on SIGTERM, deployed without a preStop hook, is gone while kube-proxy still
// sends it connections and while it holds requests in flight. The rollout SLO must fail (exit 1). Runs the
// stand-in service through `--app` (pods on this machine's programs). Root only; ~2 minutes.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { standInCommand } from '../testing/stand-in-service.ts';
import { ROOT, ofType, runsFolder, sloRun } from './support/slo-run.ts';

const root = process.getuid?.() === 0;
const runs = runsFolder('slo-rollout-kube-');
afterAll(() => runs.cleanup());

describe.runIf(root)('a rollout on the real cluster', () => {
  it('a service that exits at once on SIGTERM, deployed without a preStop hook, fails the rollout SLO (exit 1)', async () => {
    // Without the preStop sleep nothing holds SIGTERM back until kube-proxy has dropped the pod's endpoint:
    // the process is gone while connections still reach it.
    const command = `STAND_IN_ON_SIGTERM=exit STAND_IN_CPU=sleep ${standInCommand()}`;
    const run = await sloRun(runs, 'no-drain', ['--profile', 'check', '--config', join(ROOT, 'tests', 'fixtures', 'rollout-only.yaml'), '--app', command, '--set', 'preStopSleepS=0', '--set', 'databaseInstances=1']);
    expect(run.exitCode, run.output).toBe(1);
    expect(run.summary.failed).toContain('rollout.failedRequests');
    // The rollout itself happened the Kubernetes way and completed; the service dropped what was in flight.
    const rollout = ofType(run.events, 'rollout');
    expect(rollout.map((e) => e.data.state)).toContain('complete');
    expect(ofType(run.events, 'replicaset').some((e) => e.data.version === '1.1.0' && e.data.ready === 3)).toBe(true);
    expect(ofType(run.events, 'pod.stop').filter((e) => e.data.reason === 'rollout').length).toBe(3);
  }, 600_000);
});
