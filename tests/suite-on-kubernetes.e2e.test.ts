// The suite on real Kubernetes, as a user runs it (issue 11's whole-command test): `slo run` on the default
// target (the single-node cluster built on this machine), everything observed and done through the kube
// adapter. What the timeline must show is Kubernetes' own doing: the HPA controller's rescale events, a rollout
// as the Deployment controller's ReplicaSets changing, a killed pod replaced by its ReplicaSet, and the
// database failed over with nothing acknowledged lost. Root only; ~4.5 minutes (one bring-up, 2.7 minutes
// of load). Behind `npm run test:e2e`; the default run has the rollout negative (rollout-on-kubernetes.test.ts).
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, ofType, runsFolder, sloRun } from './support/slo-run.ts';

const root = process.getuid?.() === 0;
const runs = runsFolder('slo-suite-kube-');
afterAll(() => runs.cleanup());

describe.runIf(root)('the suite on the real cluster, through the kube adapter', () => {
  it('growth, a rollout, a spike with a kill and a failover: Kubernetes\' own controllers in the timeline, every SLO met', async () => {
    const run = await sloRun(runs, 'good', ['--profile', 'check', '--config', join(ROOT, 'tests', 'fixtures', 'kubernetes-suite.yaml')]);
    expect(run.exitCode, run.output).toBe(0);
    const { events } = run;
    expect(ofType(events, 'run.start')[0]?.data.cluster).toBe('local');

    // Each action framed once, by the harness alone.
    const starts = ofType(events, 'action.start');
    const ends = ofType(events, 'action.end');
    expect(starts.map((e) => e.data.action).sort()).toEqual(['failover', 'kill', 'rollout']);
    expect(ends.map((e) => e.data.action).sort()).toEqual(['failover', 'kill', 'rollout']);
    expect(ends.every((e) => e.data.ok)).toBe(true);
    expect([...starts, ...ends].every((e) => e.source === 'harness')).toBe(true);

    // The autoscaler is the controller-manager's: its own SuccessfulRescale events, scaling up in the spike.
    const rescales = ofType(events, 'hpa.rescale').filter((e) => e.data.reason === 'SuccessfulRescale');
    expect(rescales.length).toBeGreaterThan(0);
    expect(new Set(rescales.map((e) => e.data.controller))).toEqual(new Set(['horizontal-pod-autoscaler']));
    expect(Math.max(...rescales.map((e) => e.data.size ?? 0))).toBeGreaterThan(3);
    expect(rescales.some((e) => /above target/.test(e.data.message))).toBe(true);

    // The rollout as the Deployment controller carries it out: a new ReplicaSet (the new version) grows
    // to the replicas while the old one shrinks to 0, inside the rollout.
    const rolloutStart = starts.find((e) => e.data.action === 'rollout')!.t;
    const rolloutEnd = ends.find((e) => e.data.action === 'rollout')!.t;
    const sets = ofType(events, 'replicaset');
    const newSet = sets.find((e) => e.data.version === '1.1.0');
    const oldSet = sets.find((e) => e.data.version === '1.0.0');
    expect(newSet, 'a ReplicaSet of the new version').toBeDefined();
    expect(oldSet?.data.name).not.toBe(newSet?.data.name);
    const during = sets.filter((e) => e.t >= rolloutStart && e.t <= rolloutEnd + 2000);
    expect(during.filter((e) => e.data.name === newSet!.data.name).map((e) => e.data.ready)).toContain(3);
    expect(during.filter((e) => e.data.name === oldSet!.data.name).map((e) => e.data.desired).at(-1)).toBe(0);

    // The killed pod's replacement is a new pod of the same ReplicaSet.
    const kill = starts.find((e) => e.data.action === 'kill')!;
    const victim = ofType(events, 'pod.stop').find((e) => e.data.reason === 'killed' && e.t >= kill.t)?.data.pod;
    expect(victim, 'the killed pod').toBeDefined();
    const podStarts = ofType(events, 'pod.start');
    const victimOwner = podStarts.find((e) => e.data.pod === victim)?.data.owner;
    expect(victimOwner).toMatch(/^slo-reference-app-[a-z0-9]+$/);
    expect(podStarts.filter((e) => e.t >= kill.t && e.data.owner === victimOwner).length).toBeGreaterThan(0);

    // The database failed over (PostgreSQL HA beside the cluster) and nothing acknowledged was lost.
    expect(ofType(events, 'db.role').map((e) => e.data.role)).toContain('primary');
    expect(ofType(events, 'writes.audit')[0]?.data.missing).toBe(0);
  }, 600_000);

});
