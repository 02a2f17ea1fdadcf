// The suite on real Kubernetes, as a user runs it: `slo run` on the default target (the single-node cluster
// built on this machine), everything observed and done through the kube adapter. What the timeline must show
// is Kubernetes' own doing: the HPA controller's rescale events, a rollout as the Deployment controller's
// ReplicaSets changing, a killed pod replaced by its ReplicaSet. A service that exits at once on SIGTERM must
// fail the rollout SLO here for the reason it does on any cluster (its endpoints go after it stopped
// answering). Root only (the cluster needs it); ~6 minutes: two bring-ups of ~50 s and ~3.5 minutes of load.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import type { TimelineEvent } from '../contract/timeline.ts';
import { standInCommand } from '../testing/stand-in-service.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SLO = join(ROOT, 'bin', 'slo.js');
const root = process.getuid?.() === 0;
const work = mkdtempSync(join(tmpdir(), 'slo-suite-kube-'));
let keep = false; // a failed test leaves its run folders for a look
afterAll(() => {
  if (keep) process.stderr.write(`run folders kept in ${work}\n`);
  else rmSync(work, { recursive: true, force: true });
});

async function sloRun(name: string, args: string[]): Promise<{ exitCode: number | undefined; summary: { result: string; failed: string[] }; events: TimelineEvent[]; output: string }> {
  onTestFailed(() => { keep = true; });
  const out = join(work, name);
  const result = await execa(process.execPath, [SLO, 'run', '--profile', 'check', '--quiet', '--out', out, ...args], {
    reject: false, cwd: ROOT, env: { CI: '', SLO_DEBUG: '' },
  });
  const output = `${result.stdout}\n${result.stderr}`;
  const [runDir] = readdirSync(out).map((entry) => join(out, entry));
  const events = readFileSync(join(runDir!, 'timeline.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as TimelineEvent & { kind: string })
    .filter((record) => record.kind === 'event');
  const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { result: string; failed: string[] };
  return { exitCode: result.exitCode, summary, events, output };
}

const ofType = <T extends TimelineEvent['type']>(events: TimelineEvent[], type: T) =>
  events.filter((e): e is Extract<TimelineEvent, { type: T }> => e.type === type);

describe.runIf(root)('the suite on the real cluster, through the kube adapter', () => {
  it('growth, a rollout, a spike with a kill and a failover: Kubernetes\' own controllers in the timeline, every SLO met', async () => {
    const run = await sloRun('good', ['--config', join(ROOT, 'tests', 'fixtures', 'kubernetes-suite.yaml')]);
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

  it('a service that exits at once on SIGTERM, deployed without a preStop hook, fails the rollout SLO (exit 1)', async () => {
    // Without the preStop sleep nothing holds SIGTERM back until kube-proxy has dropped the pod's endpoint:
    // the process is gone while connections still reach it.
    const command = `STAND_IN_ON_SIGTERM=exit STAND_IN_CPU=sleep ${standInCommand()}`;
    const run = await sloRun('no-drain', ['--config', join(ROOT, 'tests', 'fixtures', 'rollout-only.yaml'), '--app', command, '--set', 'preStopSleepS=0']);
    expect(run.exitCode, run.output).toBe(1);
    expect(run.summary.failed).toContain('rollout.failedRequests');
    // The rollout itself happened the Kubernetes way and completed; the service dropped what was in flight.
    const rollout = ofType(run.events, 'rollout');
    expect(rollout.map((e) => e.data.state)).toContain('complete');
    expect(ofType(run.events, 'replicaset').some((e) => e.data.version === '1.1.0' && e.data.ready === 3)).toBe(true);
    expect(ofType(run.events, 'pod.stop').filter((e) => e.data.reason === 'rollout').length).toBe(3);
  }, 600_000);
});
