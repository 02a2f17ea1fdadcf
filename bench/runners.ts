// `npm run bench -- runners` (root): distributed load on the embedded cluster. Brings the cluster up once with
// a fast Go echo server as the service (bench/echo-server, built static, run through --app), then for 1, 2
// and 3 runner pods climbs a ladder of sustained rates (RATES, DURATION_S each) until a rate is not reached:
// reached = the step completed valid (no runner lost or behind) and the merged seconds hold >= 98 % of the
// asked iterations. For each run it reads the harness's own CPU (process.cpuUsage: following the pods' logs,
// parsing every result line, the per-runner aggregation and the merge) per second of load. The in-process
// engine against the NodePort is measured on the same ladder for comparison. Prints Markdown for RESULTS.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { EmbeddedCluster } from '../clusters/embedded/index.ts';
import { APP_URL } from '../clusters/embedded/reference-app.ts';
import { decodeHistogram, mergeHistograms, percentileMs } from '../contract/histogram.ts';
import type { LoadRecord, TimelineSink } from '../contract/timeline.ts';
import { EmbeddedEngine } from '../load/embedded-engine.ts';
import type { StepLoad } from '../load/engine.ts';
import { runLoad } from '../load/run-load.ts';
import { runDistributedLoad } from '../load/runners/run-runners.ts';
import type { ResolvedScenario } from '../scenarios/lib/scenario.ts';

const ROOT = join(import.meta.dirname, '..');
const RATES = (process.env.RATES ?? '500,1000,2000,3000,4000,6000,8000').split(',').map(Number);
const DURATION_S = Number(process.env.DURATION_S ?? 20);
const RUNNERS = (process.env.RUNNERS ?? '0,1,2,3').split(',').map(Number); // 0: in process
const START_ALLOWANCE_MS = 8000;

function scenario(rate: number): ResolvedScenario {
  return {
    name: 'sustained',
    plan: { kind: 'sustained', executor: 'constant-arrival-rate', startRate: rate, stages: [{ target: rate, durationS: DURATION_S }], phases: [{ name: 'steady', startS: 0, endS: DURATION_S }], totalS: DURATION_S, peakRate: rate },
    requests: [{ name: 'GET /', weight: 1, method: 'GET', path: '/', expectStatus: [200] }],
  };
}

interface Trial { runners: number; rate: number; ok: boolean; achievedPct: number; failedPct: number; p95Ms: number | null; cpuMsPerS: number; reason?: string }

const echo = join(ROOT, '.tools', 'slo-bench-echo-static');
const built = await execa('go', ['build', '-trimpath', '-o', echo, '.'], { cwd: join(ROOT, 'bench', 'echo-server'), env: { CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' }, reject: false, all: true });
if (built.exitCode !== 0) throw new Error(`echo server build failed: ${built.all ?? ''}`);

const runDir = mkdtempSync(join(tmpdir(), 'slo-bench-runners-'));
const cluster = new EmbeddedCluster({ runDir, signal: new AbortController().signal, log: () => undefined, timeline: { event: () => undefined, write: () => undefined } }, {
  version: 'v1', app: `${echo} -addr 0.0.0.0:$PORT`,
});
const trials: Trial[] = [];
const load0 = loadavg()[0]!;
try {
  await cluster.up();
  await cluster.prepareLoadRunners({});
  const launcher = { runnerBaseUrl: () => cluster.runnerBaseUrl(), runLoadInCluster: cluster.runLoadInCluster.bind(cluster) };
  for (const runners of RUNNERS) {
    for (const rate of RATES) {
      const records: LoadRecord[] = [];
      const timeline: TimelineSink = { write: (r) => { if (r.kind === 'load') records.push(r); }, event: () => undefined };
      const load: StepLoad = { step: `r${runners}-${rate}`, scenario: scenario(rate), startAtMs: Date.now() + 1000, runDir, slo: { p95Ms: 200, errorRatePercent: 1 } };
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      const result = runners === 0
        ? await runLoad(new EmbeddedEngine(), load, { baseUrl: APP_URL }, { timeline })
        : await runDistributedLoad(launcher, load, { timeline, runners, startAllowanceMs: START_ALLOWANCE_MS });
      const cpu = process.cpuUsage(cpu0);
      const wallS = (performance.now() - wall0) / 1000;
      const inPlan = records.filter((r) => (r.targetRate ?? 0) > 0);
      const asked = inPlan.reduce((s, r) => s + (r.targetRate ?? 0), 0);
      const achieved = inPlan.reduce((s, r) => s + r.iterations, 0);
      const merged = mergeHistograms(records.map((r) => decodeHistogram(r.latencyUs)));
      const achievedPct = asked > 0 ? (achieved / asked) * 100 : 0;
      const requests = records.reduce((s, r) => s + r.requests, 0);
      const failedPct = requests > 0 ? (records.reduce((s, r) => s + r.failed, 0) / requests) * 100 : 100;
      const ok = result.status === 'completed' && achievedPct >= 98 && failedPct <= 1;
      // CPU per second of load: the whole call's CPU over the plan's seconds (start allowance and teardown included).
      trials.push({ runners, rate, ok, achievedPct, failedPct, p95Ms: percentileMs(merged, 95), cpuMsPerS: (cpu.user + cpu.system) / 1000 / DURATION_S, ...(result.reason ? { reason: result.reason } : {}) });
      process.stderr.write(`${runners === 0 ? 'in process' : `${runners} runners`} at ${rate}/s: ${ok ? 'reached' : 'NOT reached'} (${achievedPct.toFixed(1)} %, ${failedPct.toFixed(2)} % failed, p95 ${trials.at(-1)!.p95Ms?.toFixed(1) ?? '-'} ms, ${wallS.toFixed(0)} s wall, harness CPU ${trials.at(-1)!.cpuMsPerS.toFixed(0)} ms/s)${result.reason ? `: ${result.reason}` : ''}\n`);
      if (!ok) break;
    }
  }
} finally {
  await cluster.down();
  rmSync(runDir, { recursive: true, force: true });
}

const label = (n: number) => (n === 0 ? 'in process (1 engine, NodePort)' : `${n} runner pod${n > 1 ? 's' : ''}`);
console.log(`| generator | rate (req/s) | reached | achieved | failed | merged p95 (ms) | harness CPU (ms per s of load) | per runner |`);
console.log('| --- | ---: | :---: | ---: | ---: | ---: | ---: | ---: |');
for (const t of trials) {
  console.log(`| ${label(t.runners)} | ${t.rate} | ${t.ok ? 'yes' : `no${t.reason ? `: ${t.reason.slice(0, 80)}` : ''}`} | ${t.achievedPct.toFixed(1)} % | ${t.failedPct.toFixed(2)} % | ${t.p95Ms?.toFixed(1) ?? '-'} | ${t.cpuMsPerS.toFixed(0)} | ${t.runners > 0 ? (t.cpuMsPerS / t.runners).toFixed(0) : '-'} |`);
}
console.log('');
for (const n of RUNNERS) {
  const best = trials.filter((t) => t.runners === n && t.ok).at(-1);
  console.log(`- ${label(n)}: highest rate reached ${best ? `${best.rate} req/s` : 'none'}`);
}
console.log(`\nload average (1 min) before / after: ${load0.toFixed(1)} / ${loadavg()[0]!.toFixed(1)}`);
