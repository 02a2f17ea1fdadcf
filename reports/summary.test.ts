// The report model every format renders: margins signed the same way for every objective, error budgets,
// the banner's one-line reason, the change against a baseline, the fault ledger and provenance.
import { describe, expect, it } from 'vitest';
import type { Threshold, Verdict } from '../verifiers/types.ts';
import { syntheticReportInput, syntheticRun, reportInputOf } from '../testing/synthetic-run.ts';
import { RUN_START, TimelineBuilder, flat } from '../testing/timeline-builder.ts';
import { formatChange, formatMargin, formatNumber, describeMargin } from './format.ts';
import { faultLedger } from './faults.ts';
import { summarizeRun } from './index.ts';
import { marginOf } from './margin.ts';
import { EXIT_CODE_OF, headlineOf, type ReportInput } from './types.ts';
import { exitCodeFor } from '../harness/judge.ts';

const threshold = (op: Threshold['op'], value: number, unit: string): Threshold => ({ op, value, unit });

function verdict(id: string, status: Verdict['status'], measured: number | null, t: Threshold, extra: Partial<Verdict> = {}): Verdict {
  return {
    id, slo: `${id} ${t.op} ${t.value} ${t.unit}`, status, measured, threshold: t,
    window: { from: RUN_START, to: RUN_START + 60_000, label: 'whole run' }, evidence: { samples: 100, notes: [] }, ...extra,
  };
}

function inputWith(verdicts: Verdict[], run: Partial<ReportInput['run']> = {}): ReportInput {
  const status = verdicts.some((v) => v.status === 'invalid') ? 'invalid' : verdicts.some((v) => v.status === 'fail') ? 'fail' : 'pass';
  return {
    run: { id: 'r', cluster: 'local', profile: 'quick', startedAt: RUN_START, endedAt: RUN_START + 60_000, status: 'completed', harnessVersion: '0.1.0', steps: [], ...run },
    judgement: { status, verdicts },
    records: [],
  };
}

describe('margin', () => {
  it.each([
    ['upper bound met', 41.3, threshold('<', 200, 'ms'), 158.7, 79.35, '+158.7 ms (+79.4 %)'],
    ['upper bound missed', 265.215, threshold('<', 200, 'ms'), -65.215, -32.6075, '-65.22 ms (-32.6 %)'],
    ['error rate: percentage points, relative to the threshold', 0.439, threshold('<', 1, '%'), 0.561, 56.1, '+0.561 pp (+56.1 %)'],
    ['availability: relative to the room up to 100 %', 99.561, threshold('>=', 99.9, '%'), -0.339, -339, '-0.339 pp (-339 %)'],
    ['a minimum count', 18, threshold('>=', 20, 'replicas'), -2, -10, '-2 replicas (-10 %)'],
    ['zero threshold: no relative figure', 2, threshold('<=', 0, 'writes'), -2, null, '-2 writes'],
    ['exact objective met', 0, threshold('==', 0, 'requests'), 0, null, '0 requests'],
    ['exact objective missed', 3, threshold('==', 0, 'requests'), -3, null, '-3 requests'],
  ])('%s', (_name, measured, t, value, percent, text) => {
    const margin = marginOf(measured, t);
    expect(margin?.value).toBeCloseTo(value, 9);
    if (percent === null) expect(margin?.percent).toBeNull();
    else expect(margin?.percent).toBeCloseTo(percent, 6);
    expect(formatMargin(margin, t.unit)).toBe(text);
  });

  it('has none without a measured value or for a true/false objective', () => {
    expect(marginOf(null, threshold('<', 200, 'ms'))).toBeNull();
    expect(marginOf(0, threshold('==', 1, 'bool'))).toBeNull();
    expect(formatMargin(null, 'ms')).toBe('-');
  });

  it('reads as words in a sentence', () => {
    expect(describeMargin({ value: 108.7, percent: 54.35 }, 'ms')).toBe('108.7 ms (54.4 %) of headroom');
    expect(describeMargin({ value: -2, percent: null }, 'writes')).toBe('2 writes past the threshold');
    expect(describeMargin({ value: 0, percent: null }, 'requests')).toBe('exactly at the threshold');
  });

  it('rounds a measured value and its margin to the same last digit', () => {
    expect([formatNumber(265.215), formatNumber(200 - 265.215)]).toEqual(['265.22', '-65.22']);
    expect(formatNumber(-0.0001)).toBe('0');
  });
});

describe('error budget', () => {
  it('availability 99.9 % over 20 000 requests allows 20 failures: 37 used 185 % of it', () => {
    const v = verdict('availability.overall', 'fail', 99.815, threshold('>=', 99.9, '%'), {
      evidence: { samples: 20_000, notes: [], detail: { requests: 20_000, successful: 19_963, unavailable: 37 } },
    });
    const [budget] = summarizeRun(inputWith([v])).summary.errorBudgets;
    expect(budget).toMatchObject({ id: 'availability.overall', requests: 20_000, allowedPercent: 0.1, allowed: 20, used: 37, usedWhat: 'unavailable requests' });
    expect(budget?.usedPercent).toBeCloseTo(185, 9);
  });

  it('error rate < 1 % over 1000 requests allows 10; counts come back from the measured share when the evidence has none', () => {
    const v = verdict('errorRate.overall', 'pass', 0.4, threshold('<', 1, '%'), { evidence: { samples: 1000, notes: [] } });
    const [budget] = summarizeRun(inputWith([v])).summary.errorBudgets;
    expect(budget).toMatchObject({ allowed: 10, used: 4, usedWhat: 'failed requests', usedPercent: 40 });
  });

  it('an objective that allows nothing has no percentage, and other objectives have no budget', () => {
    const none = verdict('availability.overall', 'fail', 99.9, threshold('>=', 100, '%'), { evidence: { samples: 1000, notes: [], detail: { requests: 1000, unavailable: 1 } } });
    const latency = verdict('latency.p95', 'pass', 40, threshold('<', 200, 'ms'));
    const budgets = summarizeRun(inputWith([none, latency])).summary.errorBudgets;
    expect(budgets).toHaveLength(1);
    expect(budgets[0]).toMatchObject({ allowed: 0, used: 1, usedPercent: null });
  });
});

describe('banner', () => {
  const p95 = threshold('<', 200, 'ms');
  it('FAIL names the worst failure relative to its threshold, and how many more failed (exit code 1)', () => {
    const input = inputWith([
      verdict('latency.p95', 'fail', 210, p95),
      verdict('latency.p95.window', 'fail', 300, p95),
      verdict('observability.logs', 'fail', 0, threshold('==', 1, 'bool'), { reason: 'logs missing: none' }),
      verdict('errorRate.overall', 'pass', 0.1, threshold('<', 1, '%')),
    ]);
    const { banner } = summarizeRun(input).summary;
    expect(banner).toMatchObject({ headline: 'FAIL', exitCode: 1, verdictId: 'latency.p95.window', counts: { fail: 3, invalid: 0, pass: 1 } });
    expect(banner.reason).toBe('latency.p95.window < 200 ms: measured 300 ms, 100 ms (50 %) past the threshold (and 2 more failed of 4 SLOs)');
  });

  it('counts any overshoot of a zero threshold as the worst (lost writes)', () => {
    const input = inputWith([verdict('latency.p95', 'fail', 400, p95), verdict('failover.lostWrites', 'fail', 1, threshold('<=', 0, 'writes'))]);
    expect(summarizeRun(input).summary.banner.verdictId).toBe('failover.lostWrites');
  });

  it('a failure without a number is named by its reason', () => {
    const input = inputWith([verdict('failover.recovery', 'fail', null, threshold('<=', 30, 's'), { reason: 'writes did not recover before +96s' })]);
    expect(summarizeRun(input).summary.banner.reason).toBe('failover.recovery <= 30 s: writes did not recover before +96s');
  });

  it('PASS says how close the closest objective came (exit code 0)', () => {
    const input = inputWith([verdict('latency.p95', 'pass', 180, p95), verdict('errorRate.overall', 'pass', 0.1, threshold('<', 1, '%'))]);
    const { banner } = summarizeRun(input).summary;
    expect(banner).toMatchObject({ headline: 'PASS', exitCode: 0, verdictId: 'latency.p95' });
    expect(banner.reason).toBe('all 2 SLOs met; closest: latency.p95 < 200 ms: measured 180 ms, 20 ms (10 %) of headroom');
  });

  it('INVALID and ABORTED say why the run cannot be judged (exit code 3)', () => {
    const invalid = summarizeRun(inputWith([verdict('loadgen.dropped', 'invalid', 4, threshold('<=', 1, '%'), { reason: 'measured 4 %' })], { status: 'invalid', reason: 'k6 dropped 400 iterations' })).summary.banner;
    expect(invalid).toMatchObject({ headline: 'INVALID', exitCode: 3, reason: 'the run is invalid, not judged as pass or fail: k6 dropped 400 iterations' });
    const aborted = summarizeRun(inputWith([verdict('latency.p95', 'pass', 40, p95)], { status: 'aborted', reason: 'SIGINT' })).summary.banner;
    expect(aborted).toMatchObject({ headline: 'ABORTED', exitCode: 3, reason: 'the run was aborted: SIGINT; 1 SLO judged on the part that ran, 0 failed' });
  });
});

describe('exit code', () => {
  it('the banner shows the code the command exits with, for every run status and judgement', () => {
    for (const status of ['completed', 'aborted', 'invalid'] as const) {
      for (const judged of ['pass', 'fail', 'invalid'] as const) {
        const judgement = { status: judged, verdicts: [] };
        expect(EXIT_CODE_OF[headlineOf({ run: { ...inputWith([]).run, status }, judgement })], `${status}/${judged}`).toBe(exitCodeFor(status, judgement));
      }
    }
  });
});

describe('change against the baseline', () => {
  it('follows the threshold direction, flags the regressions --baseline found, and leaves new objectives without one', () => {
    const input = inputWith([
      verdict('latency.p95', 'pass', 150, threshold('<', 200, 'ms')),
      verdict('availability.overall', 'pass', 99.95, threshold('>=', 99.9, '%')),
      verdict('rollout.failedRequests', 'pass', 0, threshold('<=', 0, 'requests')),
      verdict('observability.logs', 'fail', 0, threshold('==', 1, 'bool')),
      verdict('scaling.max', 'pass', 20, threshold('<=', 20, 'replicas')),
    ]);
    input.baseline = {
      runId: 'before',
      regressions: [{ id: 'latency.p95', measured: 150, baseline: 100, changePercent: 50 }],
      verdicts: [
        { id: 'latency.p95', measured: 100 }, { id: 'availability.overall', measured: 99.9 }, { id: 'rollout.failedRequests', measured: 0 },
        { id: 'observability.logs', measured: 1 },
      ],
    };
    const rows = new Map(summarizeRun(input).summary.slos.map((r) => [r.id, r]));
    expect(rows.get('latency.p95')?.baseline).toEqual({ measured: 100, delta: 50, changePercent: 50, direction: 'worse', regression: true });
    expect(rows.get('availability.overall')?.baseline?.direction).toBe('better');
    expect(rows.get('rollout.failedRequests')?.baseline).toEqual({ measured: 0, delta: 0, changePercent: null, direction: 'same', regression: false });
    expect(rows.get('scaling.max')?.baseline).toBeUndefined();
    expect(formatChange(rows.get('latency.p95')?.baseline, 'ms')).toBe('+50 ms (+50 %) worse');
    expect(formatChange(rows.get('observability.logs')?.baseline, 'bool')).toBe('was true');
  });

  it('still shows the baseline value of a regression when the caller passed regressions only', () => {
    const input = inputWith([verdict('latency.p95', 'pass', 150, threshold('<', 200, 'ms'))]);
    input.baseline = { runId: 'before', regressions: [{ id: 'latency.p95', measured: 150, baseline: 120, changePercent: 25 }] };
    expect(summarizeRun(input).summary.slos[0]?.baseline).toMatchObject({ measured: 120, delta: 30, direction: 'worse', regression: true });
  });
});

describe('fault ledger', () => {
  it('times each action of the failing run, what it cost, and which verdicts judge it', () => {
    const run = syntheticRun({ outcome: 'fail' });
    const input = syntheticReportInput({ outcome: 'fail' });
    const ledger = faultLedger(run.records, run.endMs, input.judgement.verdicts);
    const at = (t: number) => (t - run.startMs) / 1000;
    expect(ledger.map((f) => [f.key, f.what, at(f.start), f.end === null ? null : at(f.end), f.recoverS, f.recovered?.what])).toEqual([
      ['F1', 'scale to 4 replicas', 24, 26.5, 2.5, '4 of 4 ready'],
      ['F2', 'kill app-2', 66, 66.1, 3, 'app-5 ready'],
      ['F3', 'database failover', 78, 90, 9.5, 'pg-1 primary'],
      ['F4', 'rollout to v2', 96, 110, 14, 'v2 on 4 of 4'],
    ]);
    const [scale, kill, failover, rollout] = ledger;
    expect(scale?.failed).toBe(0);
    expect(kill?.failed).toBe(kill?.failures['connection reset']);
    expect(kill?.failed).toBeGreaterThan(0);
    expect(Object.keys(failover?.failures ?? {})).toContain('5xx');
    expect(failover?.lostWrites).toEqual({ state: 'audited', missing: 2, acknowledged: expect.any(Number) });
    expect(rollout?.failures).toEqual({ 'connection refused': rollout?.failed });
    expect(kill?.judgedBy).toEqual([{ id: 'selfHealing.replace', status: 'pass' }]);
    expect(failover?.judgedBy).toEqual([{ id: 'failover.recovery', status: 'pass' }, { id: 'failover.lostWrites', status: 'fail' }]);
    expect(rollout?.judgedBy.map((j) => j.id)).toEqual(['rollout.failedRequests', 'rollout.versionSwitch']);
    // The failed requests of the fault windows are the run's failed requests, less the background timeouts.
    const windowsFailed = ledger.reduce((n, f) => n + f.failed, 0);
    expect(windowsFailed).toBeLessThanOrEqual(summarizeRun(input).summary.load.failed);
  });

  it('an action the run stopped during did not end, and costs everything up to the end of the run', () => {
    const run = syntheticRun({ outcome: 'aborted' });
    const ledger = faultLedger(run.records, run.endMs, []);
    const failover = ledger.at(-1);
    expect(failover).toMatchObject({ key: 'F3', action: 'failover', end: null, ok: null, lostWrites: { state: 'not audited' } });
    expect(failover?.window.to).toBe(run.endMs);
    expect(ledger.map((f) => f.action)).toEqual(['scale', 'kill', 'failover']);
  });

  it('a failed action says so; a kill without a replacement is not recovered and costs up to the next action', () => {
    const records = new TimelineBuilder()
      .run(60)
      .event(10, 'action.start', { action: 'kill', detail: { pod: 'app-1' } })
      .event(10.1, 'pod.stop', { pod: 'app-1', reason: 'killed' })
      .event(10.2, 'action.end', { action: 'kill', ok: true })
      .event(30, 'action.start', { action: 'rollout', detail: { version: 'v2' } })
      .event(31, 'action.end', { action: 'rollout', ok: false, error: 'image not found' })
      .seconds(0, 60, (s) => ({ latencyMs: flat(20, 10), ...(s >= 12 && s < 15 ? { failed: 2, errors: { 'connection refused': 2 } } : {}) }))
      .records();
    const [kill, rollout] = faultLedger(records, RUN_START + 60_000, []);
    expect(kill).toMatchObject({ recovered: null, recoverS: null, window: { from: RUN_START + 10_000, to: RUN_START + 30_000 }, failed: 6, failures: { 'connection refused': 6 } });
    expect(rollout).toMatchObject({ ok: false, error: 'image not found', recovered: null, window: { to: RUN_START + 60_000 } });
  });
});

describe('load and provenance', () => {
  it('per request name: counts, failures and percentiles from the merged per-name histograms', () => {
    const { load } = summarizeRun(syntheticReportInput({ outcome: 'fail' })).summary;
    expect(load.byName.map((n) => n.name)).toEqual(['GET /api/items/:id', 'POST /api/orders', 'GET /api/cpu']);
    expect(load.byName.reduce((n, r) => n + r.requests, 0)).toBe(load.requests);
    expect(load.byName.reduce((n, r) => n + r.failed, 0)).toBe(load.failed);
    const [reads, writes, cpu] = load.byName;
    // The CPU endpoint is the slow one; writes fail the most during the failover.
    expect(cpu?.p95Ms).toBeGreaterThan(reads?.p95Ms ?? Infinity);
    expect(writes?.errorRatePercent).toBeGreaterThan(reads?.errorRatePercent ?? Infinity);
    expect(reads?.latencySamples).toBe(reads?.requests);
  });

  it('per request name without histograms (older timelines): counts, and no percentile', () => {
    const run = syntheticRun({ outcome: 'pass', byNameLatency: false });
    const { load } = summarizeRun(reportInputOf(run, { status: 'pass', verdicts: [] })).summary;
    expect(load.byName.every((n) => n.p95Ms === null && n.latencySamples === 0 && n.requests > 0)).toBe(true);
  });

  it('over time: asked against achieved, percentiles and failures by reason per slice from the run start', () => {
    const input = syntheticReportInput({ outcome: 'invalid' });
    const { overTime } = summarizeRun(input).summary;
    expect(overTime.sliceS).toBe(5);
    expect(overTime.slices[0]?.from).toBe(input.run.startedAt);
    const spike = overTime.slices.find((s) => s.from === input.run.startedAt + 50_000);
    // The saturated generator achieved three quarters of what it was asked.
    expect((spike?.achievedPerS ?? 0) / (spike?.askedPerS ?? 1)).toBeCloseTo(0.75, 1);
    expect(spike?.dropped).toBeGreaterThan(0);
  });

  it('provenance from run.info, and unknown without it', () => {
    const known = summarizeRun(syntheticReportInput({ outcome: 'pass' })).summary.provenance;
    expect(known).toMatchObject({
      recorded: true, harness: { version: '0.1.0', commit: '0123456789ab' }, engine: 'embedded', specHash: '5f1c0ffee0ddba11',
      machine: { cores: 2, memoryMiB: 7940 }, target: { cluster: 'local', versions: { postgresql: '15.10' } },
    });
    const unknown = summarizeRun(inputWith([])).summary.provenance;
    expect(unknown).toMatchObject({ recorded: false, harness: { version: '0.1.0', commit: null }, engine: null, specHash: null, machine: null, target: { versions: {} } });
  });
});
