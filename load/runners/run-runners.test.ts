import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeHistogram, percentileMs } from '../../contract/histogram.ts';
import { LoadRecordSchema, type LoadRecord, type TimelineEvent, type TimelineSink } from '../../contract/timeline.ts';
import type { ResolvedScenario } from '../../scenarios/lib/scenario.ts';
import { bruteForcePercentileMs } from '../../testing/brute-force.ts';
import { workerCapFor, type EmbeddedPlan } from '../embedded-engine.ts';
import type { StepLoad } from '../engine.ts';
import type { RunnerEvents, RunnerJobRequest, RunnerLauncher } from './launcher.ts';
import { jobNameFor, runDistributedLoad } from './run-runners.ts';
import { splitPlan } from './split.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function scenario(rate: number, durationS: number): ResolvedScenario {
  return {
    name: 'sustained',
    plan: {
      kind: 'sustained', executor: 'constant-arrival-rate', startRate: rate, stages: [{ target: rate, durationS }],
      phases: [{ name: 'steady', startS: 0, endS: durationS }], totalS: durationS, peakRate: rate,
    },
    requests: [
      { name: 'GET /a', weight: 70, method: 'GET', path: '/a', expectStatus: [200] },
      { name: 'POST /o', weight: 30, method: 'POST', path: '/o', body: '{}', ackJsonField: 'id', expectStatus: [201] },
    ],
  };
}

function sink() {
  const records: LoadRecord[] = [];
  const events: TimelineEvent[] = [];
  const timeline: TimelineSink = {
    write: (r) => { if (r.kind === 'load') records.push(r); else events.push(r); },
    event: (type, source, data, t = Date.now()) => { events.push({ kind: 'event', type, source, data, t } as TimelineEvent); },
  };
  return { records, events, timeline };
}

function stepLoad(s: ResolvedScenario): StepLoad {
  const runDir = mkdtempSync(join(tmpdir(), 'slo-runners-'));
  dirs.push(runDir);
  return { step: 'steady', scenario: s, startAtMs: Date.now(), runDir, slo: { p95Ms: 200, errorRatePercent: 1 } };
}

/** A seeded generator, so a failure reproduces. */
function lcg(seed: number): () => number {
  let x = seed;
  return () => { x = (x * 1103515245 + 12345) % 2 ** 31; return x / 2 ** 31; };
}

type Script = (index: number, plan: EmbeddedPlan, events: RunnerEvents) => void | Promise<void>;

/** A launcher whose runners play `script`; records what was asked and whether the Job was deleted. */
function fakeLauncher(script: Script) {
  const state = { request: null as RunnerJobRequest | null, stopped: 0 };
  const launcher: RunnerLauncher = {
    runnerBaseUrl: () => 'http://svc.ns.svc.cluster.local',
    async runLoadInCluster(request, events) {
      state.request = request;
      const plan = JSON.parse(request.plan) as EmbeddedPlan;
      for (let i = 0; i < request.runners; i++) void Promise.resolve().then(() => script(i, plan, events));
      return { stop: async () => { state.stopped += 1; } };
    },
  };
  return { launcher, state };
}

/** Runner `index` sends `perSecond` requests each second of the plan with latencies from `latency`, then ends. */
async function playRunner(index: number, plan: EmbeddedPlan, events: RunnerEvents, latency: () => number, perSecond: number, samples: number[]): Promise<void> {
  events.line(index, `start\t${plan.startAtMs}`);
  const seconds = plan.stages.reduce((s, st) => s + st.durationS, 0);
  // As the engine: the end line never comes before the plan's end.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, plan.startAtMs + seconds * 1000 - Date.now())));
  let n = 0;
  for (let s = 0; s < seconds; s++) {
    for (let k = 0; k < perSecond; k++) {
      const ms = latency();
      samples.push(ms);
      const t = plan.startAtMs + s * 1000 + Math.floor((k * 1000) / perSecond);
      const post = k % 3 === 0;
      events.line(index, `r\t${t}\t${Math.round(ms * 1000)}\t${post ? 201 : 200}\t${post ? 'POST /o' : 'GET /a'}\t-\t1.0.0\tpod-${index}`);
      if (post) events.line(index, `a\t${index}-${n}`);
      n++;
    }
  }
  events.line(index, `end\t${JSON.stringify({ requests: n, dropped: 0, stopped: 'completed', workers: 3, maxWorkersReached: false, aborted: 0 })}`);
  events.ended(index, { exitCode: 0 });
}

describe('splitPlan', () => {
  it('divides every rate by N and keeps durations and the mix', () => {
    const plan: EmbeddedPlan = {
      baseUrl: 'http://x', startAtMs: 1, startRate: 30, stages: [{ target: 300, durationS: 10 }, { target: 30, durationS: 5 }],
      requests: scenario(1, 1).requests, timeoutS: 10, maxWorkers: 3000, lateToleranceMs: 1000,
    };
    const split = splitPlan(plan, 3);
    expect(split.startRate).toBe(10);
    expect(split.stages).toEqual([{ target: 100, durationS: 10 }, { target: 10, durationS: 5 }]);
    expect(split.requests).toEqual(plan.requests);
    expect(split.maxWorkers).toBe(workerCapFor(100));
    expect(split.startAtMs).toBe(1);
    expect(() => splitPlan(plan, 0)).toThrow();
  });

  it('names each step\'s Job with a DNS label', () => {
    expect(jobNameFor('Spike_Step', 1_700_000_000_000)).toMatch(/^slo-load-spike-step-[a-z0-9]+$/);
    expect(jobNameFor('x'.repeat(80)).length).toBeLessThanOrEqual(63);
  });
});

describe('runDistributedLoad', () => {
  it('merges three runners second by second: the merged p95 is the p95 of all samples, the runners are named, acks kept', async () => {
    const { records, events, timeline } = sink();
    const random = lcg(7);
    // Three different distributions: the merged p95 is far from the mean of the three runners' p95s.
    const shapes = [() => 1 + random() * 4, () => 5 + random() * 20, () => (random() < 0.2 ? 200 + random() * 300 : 10 + random() * 10)];
    const samples: number[][] = [[], [], []];
    const { launcher, state } = fakeLauncher((i, plan, ev) => playRunner(i, plan, ev, shapes[i]!, 10, samples[i]!));
    let startedAt = 0;
    const result = await runDistributedLoad(launcher, stepLoad(scenario(30, 3)), { timeline, runners: 3, startAllowanceMs: 100, onStart: (t) => { startedAt = t; } });

    expect(result.status, result.reason).toBe('completed');
    expect(state.request?.runners).toBe(3);
    const plan = JSON.parse(state.request!.plan) as EmbeddedPlan;
    expect(plan.startRate).toBe(10);
    expect(plan.baseUrl).toBe('http://svc.ns.svc.cluster.local');
    expect(plan.startAtMs).toBe(startedAt);
    expect(state.stopped).toBe(1);
    expect(records).toHaveLength(3);
    for (const [s, record] of records.entries()) {
      expect(LoadRecordSchema.safeParse(record).success).toBe(true);
      expect(record.t).toBe(startedAt + s * 1000);
      expect(record.runners).toEqual({ 'runner-0': 10, 'runner-1': 10, 'runner-2': 10 });
      expect(record.requests).toBe(30);
      expect(record.targetRate).toBeCloseTo(30, 1);
      const union = samples.flatMap((own) => own.slice(s * 10, s * 10 + 10));
      const exact = bruteForcePercentileMs(union, 95);
      expect(Math.abs(percentileMs(decodeHistogram(record.latencyUs), 95)! - exact)).toBeLessThanOrEqual(exact * 0.01 + 0.001);
    }
    const all = samples.flat();
    const whole = records.map((r) => decodeHistogram(r.latencyUs)).reduce((a, b) => { a.add(b); return a; });
    expect(Math.abs(percentileMs(whole, 95)! - bruteForcePercentileMs(all, 95))).toBeLessThanOrEqual(bruteForcePercentileMs(all, 95) * 0.01);
    expect(result.ackedOrderIds).toHaveLength(3 * 3 * 4); // k % 3 === 0 of 10 a second, 3 s, 3 runners
    expect(readFileSync(join(dirs[0]!, 'acked-orders-steady.txt'), 'utf8').trim().split('\n')).toHaveLength(36);
    expect(events.filter((e) => e.type === 'loadgen')).toEqual([]);
    expect(events.filter((e) => e.type === 'phase').map((e) => (e.data as { state: string }).state)).toEqual(['start', 'end']);
  });

  it('a runner whose output ends without its summary makes the run invalid and stops the others', async () => {
    const { events, timeline } = sink();
    const { launcher, state } = fakeLauncher((i, plan, ev) => {
      if (i !== 1) { ev.line(i, `start\t${plan.startAtMs}`); return; } // still running
      ev.line(i, `start\t${plan.startAtMs}`);
      ev.line(i, `r\t${plan.startAtMs}\t1000\t200\tGET /a\t-\t-\t-`);
      ev.ended(i, { exitCode: null, reason: 'pod slo-load-x-1 was deleted' });
    });
    const result = await runDistributedLoad(launcher, stepLoad(scenario(30, 60)), { timeline, runners: 3, startAllowanceMs: 100 });
    expect(result.status).toBe('invalid');
    expect(result.reason).toMatch(/^runner 1 died: pod slo-load-x-1 was deleted/);
    expect(state.stopped).toBe(1);
    expect(events.filter((e) => e.type === 'loadgen').map((e) => e.data)).toEqual([{ state: 'aborted', reason: result.reason }]);
  });

  it('a runner that never starts makes the run invalid after the grace', async () => {
    const { timeline } = sink();
    const { launcher, state } = fakeLauncher((i, plan, ev) => { if (i === 0) ev.line(i, `start\t${plan.startAtMs}`); });
    const result = await runDistributedLoad(launcher, stepLoad(scenario(30, 60)), { timeline, runners: 2, startAllowanceMs: 50, startGraceMs: 300 });
    expect(result.status).toBe('invalid');
    expect(result.reason).toMatch(/runner 1 had not started/);
    expect(state.stopped).toBe(1);
  });

  it('a runner that reached its worker cap and dropped arrivals fell behind: invalid', async () => {
    const { timeline } = sink();
    const { launcher } = fakeLauncher((i, plan, ev) => {
      ev.line(i, `start\t${plan.startAtMs}`);
      ev.line(i, `r\t${plan.startAtMs}\t1000\t200\tGET /a\t-\t-\t-`);
      ev.line(i, `end\t${JSON.stringify({ requests: 1, dropped: i === 0 ? 2 : 0, stopped: 'completed', workers: 20, maxWorkersReached: i === 0, aborted: 0 })}`);
      ev.ended(i, { exitCode: 0 });
    });
    const result = await runDistributedLoad(launcher, stepLoad(scenario(2, 1)), { timeline, runners: 2, startAllowanceMs: 50 });
    expect(result.status).toBe('invalid');
    expect(result.reason).toMatch(/runner 0 fell behind/);
  });

  it('Ctrl-C stops every runner: aborted, Job deleted', async () => {
    const { timeline } = sink();
    const controller = new AbortController();
    const { launcher, state } = fakeLauncher((i, plan, ev) => { ev.line(i, `start\t${plan.startAtMs}`); setTimeout(() => controller.abort(new Error('SIGINT')), 50); });
    const result = await runDistributedLoad(launcher, stepLoad(scenario(30, 60)), { timeline, runners: 2, startAllowanceMs: 50, signal: controller.signal });
    expect(result.status).toBe('aborted');
    expect(state.stopped).toBe(1);
  });

  it('a Job the cluster refuses is an aborted step (exit 3), not a crash', async () => {
    const { timeline } = sink();
    const launcher: RunnerLauncher = {
      runnerBaseUrl: () => 'http://x',
      runLoadInCluster: async () => { throw new Error('refusing load runners: namespace shop lacks label'); },
    };
    const result = await runDistributedLoad(launcher, stepLoad(scenario(30, 60)), { timeline, runners: 2, startAllowanceMs: 50 });
    expect(result.status).toBe('aborted');
    expect(result.reason).toMatch(/namespace shop lacks label/);
  });
});
