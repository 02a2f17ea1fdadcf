// `npm run bench -- kubernetes-actions` (root; the embedded cluster built): how fast Kubernetes' own
// controllers act on the embedded cluster under load, read from the timelines of real `slo run`s:
//  - HPA reaction: spike onset -> the horizontal-pod-autoscaler's first SuccessfulRescale, with the quick
//    profile (HPA sync 3 s, behaviour windows x0.2, metrics-server at its 10 s minimum) and in real time
//    (sync 15 s, the manifests' windows, metrics-server at 15 s);
//  - killed pod -> its ReplicaSet's replacement ready;
//  - a rolling update of 3 and of 20 replicas under load (maxSurge 1, maxUnavailable 0).
// Two runs: the quick profile (a light rollout, a spike with a kill, a rollout while a CPU-heavy load holds
// 20 replicas), then the spike alone in real time. Pass run folders instead (`-- kubernetes-actions
// runs/a runs/b`) to read runs made already (e.g. the main command's).
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import type { TimelineEvent } from '../contract/timeline.ts';

const ROOT = resolve(import.meta.dirname, '..');

const SPEC = `version: 1
slos:
  latency: { p95Ms: 2000, windowS: 30, excludeFailover: true }
profiles:
  quick: { timeScale: 0.2, autoscalerSyncS: 3, rateScale: 0.25, steps: [rollout3, spike, rollout20] }
  realtime: { timeScale: 1, autoscalerSyncS: 15, rateScale: 0.25, steps: [spike] }
suite:
  steps:
    - { name: rollout3, scenario: sustained, durationS: 200, rates: { base: 20, peak: 20 }, actions: [{ at: 0.3, do: rollout, version: "1.1.0" }] }
    - name: spike
      scenario: spike
      durationS: 300
      rates: { base: 20, peak: 200 }
      weights: { read: 20, write: 10, cpu: 70 }
      cpuMs: 25
      expect: []
      actions: [{ at: 0.5, do: kill }]
    - name: rollout20
      scenario: sustained
      durationS: 800
      rates: { base: 200, peak: 200 }
      weights: { read: 20, write: 10, cpu: 70 }
      cpuMs: 25
      actions: [{ at: 0.25, do: rollout, version: "1.2.0" }]
`;

type Event = TimelineEvent;

export interface ActionTimings {
  profile: string;
  hpaReactionS: number | null;
  killToReadyS: number | null;
  rollouts: Array<{ replicas: number; seconds: number }>;
}

/** The measures above, from one run's timeline events. */
export function actionTimings(events: Event[]): ActionTimings {
  const profile = events.find((e) => e.type === 'run.start')?.data.profile ?? '?';
  const spikeStart = events.find((e) => e.type === 'phase' && e.data.name === 'spike' && e.data.state === 'start')?.t;
  const rescale = spikeStart === undefined ? undefined
    : events.find((e) => e.type === 'hpa.rescale' && e.data.reason === 'SuccessfulRescale' && e.t >= spikeStart);
  const kill = events.find((e) => e.type === 'action.start' && e.data.action === 'kill');
  const victim = kill ? events.find((e) => e.type === 'pod.stop' && e.data.reason === 'killed' && e.t >= kill.t) : undefined;
  const owner = victim ? events.find((e) => e.type === 'pod.start' && e.data.pod === (victim.data as { pod: string }).pod)?.data : undefined;
  const replacementReady = kill && owner && 'owner' in owner
    ? events.find((e) => e.type === 'pod.ready' && e.t > kill.t && e.data.owner === owner.owner && e.data.pod !== owner.pod)
    : undefined;
  const rollouts: ActionTimings['rollouts'] = [];
  for (const start of events.filter((e) => e.type === 'action.start' && e.data.action === 'rollout')) {
    const end = events.find((e) => e.type === 'action.end' && e.data.action === 'rollout' && e.t >= start.t);
    const replicas = events.filter((e) => e.type === 'replicas' && e.t <= start.t).at(-1);
    if (end && replicas?.type === 'replicas') rollouts.push({ replicas: replicas.data.desired, seconds: (end.t - start.t) / 1000 });
  }
  return {
    profile,
    hpaReactionS: rescale && spikeStart !== undefined ? (rescale.t - spikeStart) / 1000 : null,
    killToReadyS: replacementReady && kill ? (replacementReady.t - kill.t) / 1000 : null,
    rollouts,
  };
}

function readEvents(runDir: string): Event[] {
  return readFileSync(join(runDir, 'timeline.jsonl'), 'utf8').trim().split('\n')
    .map((line) => JSON.parse(line) as Event & { kind: string }).filter((r) => r.kind === 'event');
}

async function runProfile(profile: string, work: string): Promise<string> {
  const spec = join(work, 'kubernetes-actions.yaml');
  writeFileSync(spec, SPEC);
  const out = join(work, profile);
  process.stdout.write(`slo run --profile ${profile} (the embedded cluster)...\n`);
  const result = await execa(process.execPath, [join(ROOT, 'bin', 'slo.js'), 'run', '--config', spec, '--profile', profile, '--quiet', '--out', out],
    { reject: false, cwd: ROOT, env: { CI: '' } });
  if (result.exitCode !== 0 && result.exitCode !== 1) throw new Error(`slo run --profile ${profile} exited ${result.exitCode}: ${result.stderr.trim().split('\n').at(-1)}`);
  return join(out, readdirSync(out)[0]!);
}

const fmt = (n: number | null) => (n === null ? 'n/a' : n.toFixed(1));

const given = process.argv.slice(2);
const work = mkdtempSync(join(tmpdir(), 'slo-bench-kube-'));
const runDirs = given.length > 0 ? given : [await runProfile('quick', work), await runProfile('realtime', work)];
process.stdout.write('\n| run | profile | spike onset -> first HPA rescale (s) | kill -> replacement ready (s) | rollouts under load (replicas: s) |\n| --- | --- | ---: | ---: | --- |\n');
for (const dir of runDirs) {
  const t = actionTimings(readEvents(dir));
  process.stdout.write(`| ${dir.split('/').at(-1)} | ${t.profile} | ${fmt(t.hpaReactionS)} | ${fmt(t.killToReadyS)} | ${t.rollouts.map((r) => `${r.replicas}: ${r.seconds.toFixed(1)}`).join(', ') || 'n/a'} |\n`);
}
