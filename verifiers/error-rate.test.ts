import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../contract/spec.ts';
import { specFromYaml } from '../testing/spec.ts';
import { verifyAvailability } from './availability.ts';
import { verifyErrorRate } from './error-rate.ts';
import { runContext } from './run-context.ts';
import { TimelineBuilder, flat } from '../testing/timeline-builder.ts';
import { verdictById } from '../testing/verdicts.ts';

const spec = defaultSpec();
const errorRate = (b: TimelineBuilder) => verdictById(verifyErrorRate(runContext(b.records(), spec), spec), 'errorRate.overall');
const availability = (b: TimelineBuilder) => verdictById(verifyAvailability(runContext(b.records(), spec), spec), 'availability.overall');

describe('error rate', () => {
  it.each([
    ['no failures', 0, 'pass', 0],
    ['0.5 % failed', 5, 'pass', 0.5],
    ['exactly 1 % failed (must be strictly below)', 10, 'fail', 1],
    ['3 % failed', 30, 'fail', 3],
  ] as const)('%s', (_label, failedPerSecond, status, percent) => {
    const b = new TimelineBuilder().run(10).seconds(0, 10, { latencyMs: flat(10, 1000), failed: failedPerSecond });
    const v = errorRate(b);
    expect(v.status).toBe(status);
    expect(v.measured).toBeCloseTo(percent, 6);
    expect(v.evidence.samples).toBe(10_000);
  });

  it('breaks the rate down per step and error kind', () => {
    const b = new TimelineBuilder()
      .run(20)
      .step('calm', 'sustained', 0, 10)
      .step('storm', 'spike', 10, 20)
      .seconds(0, 10, { latencyMs: flat(10, 100) })
      .seconds(10, 20, { latencyMs: flat(10, 100), failed: 10, errors: { timeout: 10 } });
    const v = errorRate(b);
    expect(v.status).toBe('fail');
    expect(v.evidence.detail?.['perStep']).toEqual([
      { step: 'calm', requests: 1000, failed: 0, percent: 0 },
      { step: 'storm', requests: 1000, failed: 100, percent: 10 },
    ]);
    expect(v.evidence.notes).toContain('timeout: 100');
  });

  it('fails without requests instead of passing an empty run', () => {
    const v = errorRate(new TimelineBuilder().run(10));
    expect(v.status).toBe('fail');
    expect(v.measured).toBeNull();
    expect(v.reason).toBe('no requests in the run');
  });

  it('stays within [0, 100] and matches failed / requests (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 500 })), { minLength: 1, maxLength: 30 }), (seconds) => {
        const b = new TimelineBuilder().run(seconds.length);
        seconds.forEach(([ok, failed], s) => b.second(s, { requests: ok + failed, failed }));
        const requests = seconds.reduce((n, [ok, failed]) => n + ok + failed, 0);
        const failed = seconds.reduce((n, [, f]) => n + f, 0);
        const v = errorRate(b);
        if (requests === 0) {
          expect(v.status).toBe('fail');
          return;
        }
        expect(v.measured).toBeGreaterThanOrEqual(0);
        expect(v.measured).toBeLessThanOrEqual(100);
        expect(v.measured).toBeCloseTo((failed / requests) * 100, 2);
        expect(v.status).toBe((failed / requests) * 100 < 1 ? 'pass' : 'fail');
      }),
      { numRuns: 150 },
    );
  });
});

describe('availability', () => {
  it.each([
    ['all 200', { '200': 10_000 }, 'pass', 100],
    ['4xx still counts as answered', { '200': 9_000, '404': 1_000 }, 'pass', 100],
    ['0.05 % 5xx passes 99.9 %', { '200': 9_995, '503': 5 }, 'pass', 99.95],
    ['exactly 99.9 % passes (>=)', { '200': 9_990, '500': 10 }, 'pass', 99.9],
    ['0.2 % no response fails', { '200': 9_980, '0': 20 }, 'fail', 99.8],
  ] as const)('%s', (_label, status, verdictStatus, percent) => {
    const requests = Object.values(status).reduce((n, c) => n + c, 0);
    const b = new TimelineBuilder().run(1).second(0, { requests, status });
    const v = availability(b);
    expect(v.status).toBe(verdictStatus);
    expect(v.measured).toBeCloseTo(percent, 6);
  });

  it('fails without requests', () => {
    const v = availability(new TimelineBuilder().run(10));
    expect(v.status).toBe('fail');
    expect(v.measured).toBeNull();
  });

  it('never exceeds 100 % nor goes below 0 % (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('0', '200', '201', '404', '500', '502', '503'), fc.integer({ min: 0, max: 1000 })), fc.integer({ min: 1, max: 3000 }), (status, requests) => {
        const v = availability(new TimelineBuilder().run(1).second(0, { requests, status }));
        expect(v.measured).toBeGreaterThanOrEqual(0);
        expect(v.measured).toBeLessThanOrEqual(100);
      }),
      { numRuns: 150 },
    );
  });
});

describe('failover windows: a failover is judged by its own SLO, not twice', () => {
  // 180 s at 20 req/s; a failover at 100 s; `outage` seconds of 503s starting at `outageFromS`.
  function run(outageFromS: number, outage: number) {
    return new TimelineBuilder().run(180).step('failover', 'sustained', 0, 180)
      .event(100, 'action.start', { action: 'failover' })
      .event(125, 'action.end', { action: 'failover', ok: true })
      .seconds(0, 180, (s) => ({ latencyMs: flat(20, 20), failed: s >= outageFromS && s < outageFromS + outage ? 20 : 0 }));
  }
  const strict = specFromYaml('version: 1\nslos:\n  errorRate: { maxPercent: 1, excludeFailover: false }\n  availability: { minPercent: 99.9, excludeFailover: false }\n', '<test>');

  it.each([
    ['10 s outage inside the recovery budget: left out, both pass', 100, 10, 'pass'],
    ['outage lasting past the 30 s budget: the rest counts, both fail', 100, 40, 'fail'],
    ['outage before the failover: counts, both fail', 60, 10, 'fail'],
  ] as const)('%s', (_name, fromS, outage, status) => {
    const b = run(fromS, outage);
    expect(errorRate(b).status).toBe(status);
    expect(availability(b).status).toBe(status);
  });

  it('says which seconds it left out', () => {
    const v = availability(run(100, 10));
    expect(v.evidence.notes.join('\n')).toMatch(/left out \+100s .*to \+110s .*a database failover/);
    expect(v.evidence.samples).toBe(170 * 20);
  });

  it('excludeFailover: false judges every second', () => {
    const b = run(100, 10);
    const judged = verdictById(verifyAvailability(runContext(b.records(), strict), strict), 'availability.overall');
    expect(judged.status).toBe('fail');
    expect(judged.evidence.samples).toBe(180 * 20);
  });
});
