// Load from many machines on the real embedded cluster (issue 14): `slo run --runners 3` drives the step from
// three pods of the embedded engine (an Indexed Job), their per-second results streamed back and merged
// into one timeline; one verdict per SLO. Then a runner pod is killed mid-run: the run is invalid (exit 3)
// and no Job or pod of the runners is left. Needs root (the embedded cluster); two bring-ups, ~5 minutes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { kubernetesBinDir } from '../clusters/embedded/build.ts';
import { STATE_DIR } from '../clusters/embedded/index.ts';
import { APP_NAMESPACE } from '../clusters/embedded/reference-app.ts';
import { RUNNERS_LABEL } from '../clusters/kube/runners.ts';
import { eventsOf, loadRecords, parseTimeline } from '../contract/timeline.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SLO = join(ROOT, 'bin', 'slo.js');
const root = process.getuid?.() === 0;
const KUBECONFIG = join(STATE_DIR, 'admin.kubeconfig');
const kubectl = (args: string[]) => execa(join(kubernetesBinDir(), 'kubectl'), [`--kubeconfig=${KUBECONFIG}`, '--request-timeout=5s', ...args], { reject: false });

const spec = (durationS: number) => `version: 1
profiles:
  quick: { timeScale: 1, rateScale: 1, autoscalerSyncS: 15 }
suite:
  steps:
    - name: steady
      scenario: sustained
      durationS: ${durationS}
      rates: { base: 60, peak: 60 }
      weights: { read: 80, write: 20, cpu: 0 }
load:
  runners: 3
`;

function slo(args: string[]) {
  return execa(process.execPath, [SLO, ...args], { reject: false, cwd: ROOT, env: { CI: '', SLO_DEBUG: '' } });
}

const runDirOf = (stdout: string) => (JSON.parse(stdout.trim().split('\n').at(-1)!) as { runDir: string }).runDir;

describe.runIf(root)('distributed load on the embedded cluster: three runner pods, one verdict', () => {
  const work = mkdtempSync(join(tmpdir(), 'slo-runners-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('3 runners: the asked rate within 2 %, three runner ids every second, acknowledged orders kept, judged once', async () => {
    writeFileSync(join(work, 'steady.yaml'), spec(40));
    const run = await slo(['run', '--cluster', 'embedded', '--config', join(work, 'steady.yaml'), '--out', join(work, 'runs'), '--quiet', '--set', 'runnerStartS=10', '--set', 'databaseInstances=1']);
    // A missed latency SLO on a busy machine is exit 1; the load itself must be valid.
    expect([0, 1], `${run.stdout}\n${run.stderr}`).toContain(run.exitCode);
    const runDir = runDirOf(run.stdout);
    const timeline = parseTimeline(readFileSync(join(runDir, 'timeline.jsonl'), 'utf8'), 'timeline');
    const load = loadRecords(timeline);
    const inPlan = load.filter((r) => (r.targetRate ?? 0) > 0);
    const asked = inPlan.reduce((s, r) => s + (r.targetRate ?? 0), 0);
    const achieved = inPlan.reduce((s, r) => s + r.iterations, 0);
    expect(asked).toBeGreaterThanOrEqual(60 * 39);
    expect(Math.abs(achieved - asked) / asked).toBeLessThanOrEqual(0.02);
    for (const record of inPlan) expect(Object.keys(record.runners ?? {}).sort()).toEqual(['runner-0', 'runner-1', 'runner-2']);
    expect(load.every((r) => r.source === 'embedded')).toBe(true);
    expect(eventsOf(timeline, 'loadgen')).toEqual([]);
    // Acknowledged writes of all three runners reach the durability audit.
    const acked = readFileSync(join(runDir, 'acked-orders-steady.txt'), 'utf8').trim().split('\n');
    expect(acked.length).toBeGreaterThan(60 * 40 * 0.2 * 0.9);
    expect(eventsOf(timeline, 'writes.audit')[0]?.data).toMatchObject({ acknowledged: acked.length, missing: 0 });
    // One verdict per SLO, judged on the merged seconds (never per runner).
    const report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as { verdicts: { id: string; status: string }[] };
    const ids = report.verdicts.map((v) => v.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(report.verdicts.filter((v) => v.id.startsWith('loadgen.') || v.id === 'run.completed').map((v) => v.status)).toEqual(expect.arrayContaining(['pass']));
    expect(report.verdicts.filter((v) => (v.id.startsWith('loadgen.') || v.id === 'run.completed') && v.status !== 'pass')).toEqual([]);
  }, 600_000);

  it('a runner pod killed mid-run: the run is invalid (exit 3) and no runner is left behind', async () => {
    writeFileSync(join(work, 'long.yaml'), spec(90));
    const run = slo(['run', '--cluster', 'embedded', '--config', join(work, 'long.yaml'), '--out', join(work, 'runs'), '--quiet', '--set', 'runnerStartS=10', '--set', 'databaseInstances=1']);
    let exited = false;
    void run.finally(() => { exited = true; });
    const selector = ['-n', APP_NAMESPACE, '-l', RUNNERS_LABEL];
    // Three runner pods running, then some seconds of load.
    let victim = '';
    for (const started = Date.now(); !victim; await sleep(500)) {
      if (exited || Date.now() - started > 480_000) throw new Error(`no three running runner pods: ${(await run).stderr}`);
      const pods = await kubectl(['get', 'pods', ...selector, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\\n"}{end}']);
      const running = pods.exitCode === 0 ? pods.stdout.trim().split('\n').filter((l) => l.endsWith(' Running')).map((l) => l.split(' ')[0]!) : [];
      if (running.length === 3) victim = running.sort()[1]!;
    }
    await sleep(20_000); // past the shared t=0 (10 s ahead) and into the load
    const killedAt = Date.now();
    const killed = await kubectl(['delete', 'pod', '-n', APP_NAMESPACE, victim, '--grace-period=0', '--force', '--wait=false']);
    expect(killed.exitCode, killed.stderr).toBe(0);
    // While the API still answers (before the cluster's teardown), the runners' Job and pods must go.
    let goneAt = 0;
    while (!exited) {
      const left = await kubectl(['get', 'jobs,pods', ...selector, '-o', 'name']);
      if (left.exitCode === 0 && left.stdout.trim() === '' && !goneAt) goneAt = Date.now();
      await sleep(250);
    }
    const result = await run;
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(3);
    expect(goneAt, 'the runners\' Job and pods were never seen gone').toBeGreaterThan(killedAt);
    const runDir = runDirOf(result.stdout);
    const timeline = parseTimeline(readFileSync(join(runDir, 'timeline.jsonl'), 'utf8'), 'timeline');
    const [lost] = eventsOf(timeline, 'loadgen');
    expect(lost?.data.reason).toMatch(/^runner 1 (died|fell behind)/);
    expect(eventsOf(timeline, 'run.end')[0]?.data.status).toBe('invalid');
    // Stopped at once, not at the end of the plan.
    const stepEnd = eventsOf(timeline, 'step.end')[0]!;
    expect(stepEnd.data.ok).toBe(false);
    expect(stepEnd.t - killedAt).toBeLessThan(30_000);
    expect(goneAt - stepEnd.t).toBeLessThan(5_000);
  }, 700_000);
});
