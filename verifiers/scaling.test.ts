import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../contract/spec.ts';
import { specFromYaml } from '../testing/spec.ts';
import { runContext } from './run-context.ts';
import { verifyScaling } from './scaling.ts';
import { TimelineBuilder } from '../testing/timeline-builder.ts';
import { verdictById } from '../testing/verdicts.ts';

const spec = defaultSpec(); // min 3, max 20, reach max within 300 s, back to min within 600 s
const judge = (b: TimelineBuilder, s = spec) => verifyScaling(runContext(b.records(), s), s);

/**
 * A full-profile run whose `spike` step spans [100, 400) s, with the phases the spike scenario marks: the
 * jump at 150 s, the hold at peak, and recovery from 300 s.
 */
function spikeRun(profile = 'full'): TimelineBuilder {
  return new TimelineBuilder()
    .run(1500, { profile })
    .step('growth', 'growth', 0, 100)
    .step('spike', 'spike', 100, 400)
    .event(100, 'phase', { step: 'spike', name: 'steady', state: 'start' })
    .event(150, 'phase', { step: 'spike', name: 'steady', state: 'end' })
    .event(150, 'phase', { step: 'spike', name: 'spike', state: 'start' })
    .event(155, 'phase', { step: 'spike', name: 'spike', state: 'end' })
    .event(155, 'phase', { step: 'spike', name: 'hold', state: 'start' })
    .event(300, 'phase', { step: 'spike', name: 'hold', state: 'end' })
    .event(300, 'phase', { step: 'spike', name: 'recovery', state: 'start' })
    .event(400, 'phase', { step: 'spike', name: 'recovery', state: 'end' });
}

const replicas = (b: TimelineBuilder, points: [number, number, number][]) => {
  for (const [atS, desired, ready] of points) b.event(atS, 'replicas', { desired, ready });
  return b;
};

describe('scaling', () => {
  it('passes a textbook spike: 3 -> 20 within budget, back to 3 within budget', () => {
    const b = replicas(spikeRun(), [[0, 3, 3], [160, 10, 8], [200, 20, 20], [600, 10, 10], [800, 3, 3]]);
    const verdicts = judge(b);
    expect(verdicts.map((v) => [v.id, v.status, v.measured])).toEqual([
      ['scaling.min', 'pass', 3],
      ['scaling.max', 'pass', 20],
      ['scaling.reachMax', 'pass', 50],
      ['scaling.backToMin', 'pass', 500],
    ]);
    expect(verdictById(verdicts, 'scaling.reachMax').window).toMatchObject({ from: b.time(150), to: b.time(200) });
  });

  it.each([
    ['too slow to reach max', [[0, 3, 3], [300, 20, 15], [460, 20, 20], [700, 3, 3]], 'scaling.reachMax', 'fail', 310],
    ['never reaches max', [[0, 3, 3], [200, 12, 12], [700, 3, 3]], 'scaling.reachMax', 'fail', null],
    ['scales below min', [[0, 3, 3], [200, 20, 20], [700, 2, 2]], 'scaling.min', 'fail', 2],
    ['scales above max', [[0, 3, 3], [200, 24, 22], [700, 3, 3]], 'scaling.max', 'fail', 24],
    ['too slow back to min', [[0, 3, 3], [200, 20, 20], [1300, 3, 3]], 'scaling.backToMin', 'fail', 1000],
    ['never back to min', [[0, 3, 3], [200, 20, 20], [1000, 6, 6]], 'scaling.backToMin', 'fail', null],
    ['a killed pod does not count as scaling below min (desired stays)', [[0, 3, 3], [50, 3, 2], [200, 20, 20], [700, 3, 3]], 'scaling.min', 'pass', 3],
  ] as const)('%s', (_label, points, id, status, measured) => {
    const v = verdictById(judge(replicas(spikeRun(), points.map((p) => [...p]))), id);
    expect(v.status).toBe(status);
    expect(v.measured).toBe(measured);
    if (status === 'fail') expect(v.reason).toBeTruthy();
  });

  it('compresses the budgets by the profile timeScale', () => {
    // quick: timeScale 0.2 -> reach max within 60 s; 70 s is too slow.
    const b = replicas(spikeRun('quick'), [[0, 3, 3], [220, 20, 20], [320, 3, 3]]);
    const reach = verdictById(judge(b), 'scaling.reachMax');
    expect(reach.threshold).toEqual({ op: '<=', value: 60, unit: 's' });
    expect(reach.status).toBe('fail');
    expect(verdictById(judge(b), 'scaling.backToMin')).toMatchObject({ status: 'pass', measured: 20 });
  });

  it('uses hpa events when no replicas events exist', () => {
    const b = spikeRun();
    b.event(0, 'hpa', { current: 3, desired: 3, cpuPercent: 10 });
    b.event(220, 'hpa', { current: 20, desired: 20, cpuPercent: 90 });
    b.event(700, 'hpa', { current: 3, desired: 3, cpuPercent: 5 });
    expect(judge(b).every((v) => v.status === 'pass')).toBe(true);
  });

  it('without any replica data every scaling verdict fails with a reason', () => {
    const verdicts = judge(spikeRun());
    expect(verdicts).toHaveLength(4);
    for (const v of verdicts) {
      expect(v.status).toBe('fail');
      expect(v.measured).toBeNull();
      expect(v.reason).toBe('no replicas or hpa events in the run');
    }
  });

  it('without a spike phase the whole step is the spike', () => {
    const b = new TimelineBuilder().run(1000).step('spike', 'spike', 100, 400);
    replicas(b, [[0, 3, 3], [180, 20, 20], [500, 3, 3]]);
    const verdicts = judge(b);
    expect(verdictById(verdicts, 'scaling.reachMax').measured).toBe(80);
    expect(verdictById(verdicts, 'scaling.backToMin').measured).toBe(100);
  });

  it('applies only to steps that expect scaling', () => {
    const b = replicas(new TimelineBuilder().run(100).step('growth', 'growth', 0, 100), [[0, 3, 3]]);
    expect(judge(b)).toEqual([]);
    const optedIn = specFromYaml('version: 1\nsuite: { steps: [{ name: growth, scenario: growth, durationS: 100, expect: [scaling] }] }', 's.yaml');
    expect(judge(b, optedIn).map((v) => v.id)).toEqual(['scaling.min', 'scaling.max', 'scaling.reachMax', 'scaling.backToMin']);
    const optedOut = specFromYaml('version: 1\nsuite: { steps: [{ name: spike, scenario: spike, durationS: 100, expect: [] }] }', 's.yaml');
    expect(judge(replicas(new TimelineBuilder().run(100).step('spike', 'spike', 0, 100), [[0, 3, 3]]), optedOut)).toEqual([]);
  });
});
