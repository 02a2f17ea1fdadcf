import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../contract/spec.ts';
import { specFromYaml } from '../testing/spec.ts';
import { mergeLatency, p95Ms } from '../contract/histogram.ts';
import { verifyLatency } from './latency.ts';
import { runContext } from './run-context.ts';
import { TimelineBuilder, flat } from '../testing/timeline-builder.ts';
import { verdictById } from '../testing/verdicts.ts';

const spec = defaultSpec();
const byId = verdictById;
const judge = (b: TimelineBuilder) => verifyLatency(runContext(b.records(), spec), spec);

describe('latency p95', () => {
  it.each([
    ['fast responses pass', 50, 'pass'],
    ['responses at the threshold fail (p95 must be strictly below)', 200, 'fail'],
    ['slow responses fail', 450, 'fail'],
  ] as const)('%s', (_label, ms, status) => {
    const b = new TimelineBuilder().run(60).seconds(0, 60, { latencyMs: flat(ms, 30) });
    const whole = byId(judge(b), 'latency.p95');
    expect(whole.status).toBe(status);
    expect(whole.measured).toBeCloseTo(ms, 0);
    expect(whole.evidence.samples).toBe(1800);
    expect(whole.threshold).toEqual({ op: '<', value: 200, unit: 'ms' });
  });

  it('merges histograms: 6 % slow requests spread over many seconds push the whole-run p95 up', () => {
    // Each second alone has p95 = 20 ms (1 slow of 20 = 5 %), yet merged, 6 % of all requests are slow.
    const b = new TimelineBuilder().run(100).seconds(0, 100, (s) => ({ latencyMs: s < 20 ? [[20, 18], [900, 2]] : [[20, 19], [900, 1]] }));
    const whole = byId(judge(b), 'latency.p95');
    expect(whole.evidence.samples).toBe(2000);
    expect(whole.measured).toBeCloseTo(900, -1);
    expect(whole.status).toBe('fail');
  });

  it('merges two load generators in the same second even when the second one saw far larger values', () => {
    // A decoded histogram cannot grow; merging the second runner into the first one's would throw.
    const b = new TimelineBuilder().run(40);
    for (let s = 0; s < 40; s++) {
      b.second(s, { source: 'runner-0', latencyMs: flat(1, 19) });
      b.second(s, { source: 'runner-1', latencyMs: flat(30_000, 1) });
    }
    const verdicts = judge(b);
    expect(byId(verdicts, 'latency.p95').measured).toBeCloseTo(1, 0);
    const window = byId(verdicts, 'latency.p95.window');
    expect(window.evidence.samples).toBe(600);
    expect(window.measured).toBeCloseTo(1, 0);
  });

  it('a bad 30 s stretch hidden in a long good run fails the worst window', () => {
    const b = new TimelineBuilder().run(630).seconds(0, 630, (s) => ({ latencyMs: flat(s >= 300 && s < 330 ? 900 : 50, 20) }));
    const verdicts = judge(b);
    expect(byId(verdicts, 'latency.p95').status).toBe('pass');
    const window = byId(verdicts, 'latency.p95.window');
    expect(window.status).toBe('fail');
    expect(window.measured).toBeCloseTo(900, -1);
    // Every window holding more than 5 % of slow seconds is as bad; the first of them is reported.
    expect(window.window.from).toBeGreaterThan(b.time(270));
    expect(window.window.from).toBeLessThan(b.time(330));
    expect(window.window.to - window.window.from).toBe(30_000);
    expect(window.evidence.samples).toBe(600);
  });

  it('windows in a good run all pass, with a per-window series for reports', () => {
    const b = new TimelineBuilder().run(90).seconds(0, 90, { latencyMs: flat(80, 10) });
    const window = byId(judge(b), 'latency.p95.window');
    expect(window.status).toBe('pass');
    expect((window.evidence.detail?.['series'] as unknown[]).length).toBe(61);
  });

  it('a run shorter than one window is judged as one window', () => {
    const b = new TimelineBuilder().run(10).seconds(0, 10, { latencyMs: flat(80, 10) });
    const window = byId(judge(b), 'latency.p95.window');
    expect(window.status).toBe('pass');
    expect(window.evidence.samples).toBe(100);
  });

  it('judges each scenario phase and fails the slow one', () => {
    const b = new TimelineBuilder()
      .run(60)
      .step('spike', 'spike', 0, 60)
      .event(0, 'phase', { step: 'spike', name: 'ramp', state: 'start' })
      .event(20, 'phase', { step: 'spike', name: 'ramp', state: 'end' })
      .event(20, 'phase', { step: 'spike', name: 'spike', state: 'start' })
      .event(40, 'phase', { step: 'spike', name: 'spike', state: 'end' })
      .event(40, 'phase', { step: 'spike', name: 'recovery', state: 'start' }) // never ends: lasts to step end
      .seconds(0, 60, (s) => ({ latencyMs: flat(s >= 20 && s < 40 ? 400 : 40, 20) }));
    const verdicts = judge(b);
    expect(byId(verdicts, 'latency.p95.phase.spike.ramp')).toMatchObject({ status: 'pass', evidence: { samples: 400 } });
    expect(byId(verdicts, 'latency.p95.phase.spike.spike')).toMatchObject({ status: 'fail', evidence: { samples: 400 } });
    expect(byId(verdicts, 'latency.p95.phase.spike.recovery')).toMatchObject({ status: 'pass', window: { to: b.time(60) }, evidence: { samples: 400 } });
  });

  it('shows the server-side p95 next to the client p95', () => {
    const b = new TimelineBuilder()
      .run(60)
      .seconds(0, 60, { latencyMs: flat(120, 10) })
      .event(30, 'server.latency', { from: b0(0), p95Ms: 15, requests: 300 })
      .event(60, 'server.latency', { from: b0(0), p95Ms: 95, requests: 600 });
    const whole = byId(judge(b), 'latency.p95');
    expect(whole.evidence.detail).toMatchObject({ clientP95Ms: expect.closeTo(120, 0), serverP95Ms: 95, serverRequests: 600 });
  });

  it.each([
    ['no load at all', new TimelineBuilder().run(60)],
    ['load records without responses', new TimelineBuilder().run(60).seconds(0, 60, { latencyMs: [] })],
  ])('fails with a reason on %s', (_label, b) => {
    const verdicts = judge(b);
    for (const id of ['latency.p95', 'latency.p95.window']) {
      const v = byId(verdicts, id);
      expect(v.status).toBe('fail');
      expect(v.measured).toBeNull();
      expect(v.reason).toMatch(/no .*(samples|responses)/);
    }
  });

  it('fails when a histogram cannot be decoded rather than ignoring it', () => {
    const records = new TimelineBuilder().run(10).seconds(0, 10, { latencyMs: flat(50, 30) }).records();
    const broken = records.map((r) => (r.kind === 'load' && r.t === records.find((x) => x.kind === 'load')?.t ? { ...r, latencyUs: 'not-a-histogram' } : r));
    const whole = byId(verifyLatency(runContext(broken, spec), spec), 'latency.p95');
    expect(whole.status).toBe('fail');
    expect(whole.reason).toContain('unreadable');
  });

  it('windowS from the spec sets the window length', () => {
    const tight = specFromYaml('version: 1\nslos: { latency: { p95Ms: 200, windowS: 5 } }', 'w.yaml');
    const b = new TimelineBuilder().run(60).seconds(0, 60, (s) => ({ latencyMs: flat(s === 10 ? 500 : 50, 20) }));
    const window = byId(verifyLatency(runContext(b.records(), tight), tight), 'latency.p95.window');
    expect(window.status).toBe('fail');
    expect(window.window.to - window.window.from).toBe(5000);
    // The default 30 s window dilutes the same slow second below the p95 (20 of 600 requests).
    expect(byId(judge(b), 'latency.p95.window').status).toBe('pass');
  });
});

function b0(atS: number): number {
  return new TimelineBuilder().time(atS);
}

describe('p95 from merged histograms (property)', () => {
  it('equals the brute-force nearest-rank p95 within HDR precision, however the samples are split', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5_000_000 }), { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 8 }), (latenciesUs, parts) => {
        const b = new TimelineBuilder();
        for (let p = 0; p < parts; p++) {
          const share = latenciesUs.filter((_, i) => i % parts === p);
          b.second(p, { latencyMs: share.map((us) => us / 1000), source: `k6-${p % 3}` });
        }
        const merged = mergeLatency(b.records().filter((r) => r.kind === 'load'));
        const sorted = [...latenciesUs].sort((x, y) => x - y);
        const bruteUs = sorted[Math.ceil(0.95 * sorted.length) - 1] as number;
        const hdrUs = (p95Ms(merged.histogram) as number) * 1000;
        expect(merged.histogram.totalCount).toBe(latenciesUs.length);
        expect(hdrUs).toBeGreaterThanOrEqual(bruteUs - 1e-6);
        expect(hdrUs).toBeLessThanOrEqual(bruteUs * 1.001 + 1);
      }),
      { numRuns: 200 },
    );
  });
});

describe('latency around a database failover', () => {
  it('leaves out the seconds the failover may cost, and says so; with excludeFailover false they count', () => {
    // 60 s; a failover at 30 s stalls requests (2 s, failed) for 8 s.
    const b = new TimelineBuilder().run(60).step('failover', 'sustained', 0, 60)
      .event(30, 'action.start', { action: 'failover' })
      .seconds(0, 60, (s) => (s >= 30 && s < 38 ? { latencyMs: flat(2000, 20), failed: 20 } : { latencyMs: flat(20, 20) }));
    const whole = byId(judge(b), 'latency.p95');
    expect(whole.status).toBe('pass');
    expect(whole.evidence.notes.join('\n')).toMatch(/left out \+30s .*to \+38s .*database failover/);
    const counting = specFromYaml('version: 1\nslos:\n  latency: { p95Ms: 200, windowS: 30, excludeFailover: false }\n', '<test>');
    const judged = verifyLatency(runContext(b.records(), counting), counting).find((v) => v.id === 'latency.p95');
    expect(judged?.status).toBe('fail');
  });
});
