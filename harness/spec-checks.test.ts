import { describe, expect, it } from 'vitest';
import { defaultSpec, resolveProfile, validateSpec, type SloSpec } from '../contract/spec.ts';
import { peakCpuDemand, SCALING_HEADROOM, unshowableError, unshowableSteps } from './spec-checks.ts';

// The default profiles' scales, named so each case reads as "at quick" or "at full".
const PROFILES = {
  quick: { timeScale: 0.1, autoscalerSyncS: 3, rateScale: 0.25 },
  full: { timeScale: 1, autoscalerSyncS: 15, rateScale: 1 },
};

function specOf(steps: unknown[], extra: Record<string, unknown> = {}): SloSpec {
  return validateSpec({ version: 1, profiles: PROFILES, suite: { steps }, ...extra }, 'test.yaml');
}

const problems = (spec: SloSpec, profile = 'quick', options = {}) => unshowableSteps(spec, resolveProfile(spec, profile), options);

// The default spike step: 200/s peak, 70 % cpu requests of 15 ms.
const spike = (over: Record<string, unknown> = {}) => ({
  name: 'spike', scenario: 'spike', durationS: 600, rates: { base: 20, peak: 200 }, weights: { read: 20, write: 10, cpu: 70 }, cpuMs: 15, ...over,
});
const rollout = (at: number | string, over: Record<string, unknown> = {}) => ({
  name: 'rollout', scenario: 'sustained', durationS: 600, rates: { base: 20, peak: 20 }, actions: [{ do: 'rollout', at, version: '1.1.0' }], ...over,
});
const sustained = (name: string, durationS: number) => ({ name, scenario: 'sustained', durationS, rates: { base: 20, peak: 20 } });

describe('scaling reachability: a step that expects scaling drives more than max replicas at the HPA target', () => {
  it('peak CPU demand is rate x rateScale x cpu share x cpuMs', () => {
    expect(peakCpuDemand(spike(), 0.25)).toBe(525);
    expect(peakCpuDemand(spike(), 1)).toBe(2100);
    expect(SCALING_HEADROOM).toBe(1.2);
  });

  it('refuses a spike too light for max replicas, naming the step and the numbers to change', () => {
    expect(problems(specOf([spike()]))).toEqual([
      'step "spike": peak CPU demand 525 ms/s at the quick profile (50/s x 70 % cpu x 15 ms) cannot hold 20 replicas at the HPA target'
      + ' (needs >= 840 ms/s = 20 x 35m x 1.2): raise rates.peak to >= 320 or cpuMs to >= 24, or lower slos.scaling.max to <= 12',
    ]);
  });

  it('passes the same step at full (rateScale 1)', () => {
    expect(problems(specOf([spike()]), 'full')).toEqual([]);
  });

  it.each([
    ['rates.peak at the fix, exactly 840 ms/s', { rates: { base: 20, peak: 320 } }, true],
    ['rates.peak one below', { rates: { base: 20, peak: 319 } }, false],
    ['cpuMs at the fix, exactly 840 ms/s', { cpuMs: 24 }, true],
    ['cpuMs one below', { cpuMs: 23 }, false],
  ])('boundary: %s', (_label, over, passes) => {
    expect(problems(specOf([spike(over)])).length === 0).toBe(passes);
  });

  it('the boundary follows slos.scaling.max and replicaCpuAtTargetM', () => {
    // 525 ms/s holds 12 replicas x 35m x 1.2 = 504, not 13 (546).
    expect(problems(specOf([spike()], { slos: { scaling: { max: 12 } } }))).toEqual([]);
    expect(problems(specOf([spike()], { slos: { scaling: { max: 13 } } }))).toHaveLength(1);
    // A smaller replica at the target (25m x 70 % = 17.5m): 20 x 17.5 x 1.2 = 420 <= 525.
    expect(problems(specOf([spike()], { slos: { scaling: { replicaCpuAtTargetM: 17.5 } } }))).toEqual([]);
  });

  it('applies to any step that expects scaling, and to none that does not', () => {
    const light = { name: 'light', scenario: 'sustained', durationS: 60, rates: { base: 20, peak: 20 }, expect: ['scaling'] };
    expect(problems(specOf([light]))).toEqual([expect.stringMatching(/^step "light": peak CPU demand 10 ms\/s at the quick profile \(5\/s x 10 % cpu x 20 ms\)/)]);
    expect(problems(specOf([spike({ expect: [] })]))).toEqual([]);
    expect(problems(specOf([{ ...light, expect: undefined }]))).toEqual([]);
  });

  it('a step without cpu requests is told to get some; max that cannot fit even min replicas gets no number', () => {
    const [problem] = problems(specOf([spike({ weights: { read: 100, write: 0, cpu: 0 } })]));
    expect(problem).toMatch(/peak CPU demand 0 ms\/s .*: give weights\.cpu a share of the mix \(it is 0\), or lower slos\.scaling\.max$/);
    const [noCpuMs] = problems(specOf([spike({ cpuMs: 0 })]));
    expect(noCpuMs).toMatch(/: raise cpuMs to >= 24, or lower slos\.scaling\.max$/);
  });

  it('skips steps whose request mix the harness does not know: a script scenario, or any step under --scenario', () => {
    expect(problems(specOf([spike({ scenario: '/abs/mine.k6.ts', expect: ['scaling'] })]))).toEqual([]);
    expect(problems(specOf([spike({ scenario: '/abs/mine.ts', expect: ['scaling'] })]))).toEqual([]);
    expect(problems(specOf([spike()]), 'quick', { scenarioOverride: '/abs/mine.ts' })).toEqual([]);
  });

  it('checks only the steps the profile runs', () => {
    const spec = specOf([sustained('calm', 60), spike()], { profiles: { ...PROFILES, calm: { timeScale: 0.1, rateScale: 0.25, steps: ['calm'] } } });
    expect(problems(spec, 'calm')).toEqual([]);
    expect(problems(spec, 'quick')).toHaveLength(1);
  });
});

describe('rollout completion: the step has time for the rollout and to see the version after it', () => {
  it('refuses a rollout of max replicas right after a spike, with the fix in full-length numbers', () => {
    const spec = specOf([spike({ rates: { base: 20, peak: 320 } }), rollout(0.3)]);
    expect(problems(spec)).toEqual([
      'step "rollout": a rollout of 20 replicas (step "spike" expects scaling and ends 18 s before it, within the 90 s allowed to get back to 3)'
      + ' needs ~110 s (20 x 5 s + 10 s to see the version) but the step has 42 s left after it at the quick profile: make durationS >= 1572',
    ]);
    expect(problems(spec, 'full')).toEqual([]);
  });

  it('sizes a rollout at min replicas when no scaling step precedes it (25 s = 3 x 5 s + 10 s)', () => {
    // 600 x 0.1 x (1 - 0.3) = 42 s left.
    expect(problems(specOf([rollout(0.3)]))).toEqual([]);
  });

  it.each([
    ['fraction: exactly 25 s left', rollout(0.5, { durationS: 500 }), []],
    ['fraction: 24.95 s left', rollout(0.5, { durationS: 499 }), [
      'step "rollout": a rollout of 3 replicas needs ~25 s (3 x 5 s + 10 s to see the version) but the step has 24.9 s left after it at the quick profile:'
      + ' make durationS >= 500 or move the action earlier (at <= 0.49)',
    ]],
    ['seconds: exactly 25 s left', rollout('350s'), []],
    ['seconds: 24 s left', rollout('360s'), [
      'step "rollout": a rollout of 3 replicas needs ~25 s (3 x 5 s + 10 s to see the version) but the step has 24 s left after it at the quick profile:'
      + ' make durationS >= 610 or move the action earlier (at <= "350s")',
    ]],
  ])('boundary, %s', (_label, step, expected) => {
    expect(problems(specOf([step]))).toEqual(expected);
  });

  it('uses max replicas when the rollout step itself expects scaling', () => {
    expect(problems(specOf([rollout(0.3, { expect: ['scaling'], rates: { base: 20, peak: 20 }, weights: { read: 0, write: 0, cpu: 100 }, cpuMs: 200 })])))
      .toEqual([expect.stringMatching(/^step "rollout": a rollout of 20 replicas \(this step expects scaling\) needs ~110 s .* 42 s left/)]);
  });

  it('an earlier spike counts until the compressed backToMinWithinS (90 s at quick) has passed before the action', () => {
    const passing = spike({ rates: { base: 20, peak: 320 } });
    // Spike ends, then 89 s (or 90 s) of another step, then the rollout at its start.
    const within = problems(specOf([passing, sustained('cool', 890), rollout(0)]));
    expect(within).toEqual([expect.stringMatching(/a rollout of 20 replicas \(step "spike" expects scaling and ends 89 s before it, within the 90 s/)]);
    expect(within[0]).toContain('but the step has 60 s left');
    expect(problems(specOf([passing, sustained('cool', 900), rollout(0)]))).toEqual([]);
    // Steps the profile leaves out do not count: without the spike the rollout is of 3 replicas.
    const spec = specOf([passing, rollout(0.3)], { profiles: { ...PROFILES, roll: { timeScale: 0.1, rateScale: 0.25, steps: ['rollout'] } } });
    expect(problems(spec, 'roll')).toEqual([]);
  });

  it('moving the action earlier is sized for the replicas running then (back inside the spike cool-down)', () => {
    const passing = spike({ rates: { base: 20, peak: 320 } });
    // 112 s step, rollout at 110 s: 110 s after the spike, so 3 replicas and 25 s needed, 2 s left. At 87 s it
    // would still be 20 replicas (110 s needed): the latest start that works is 2 s.
    const [problem] = problems(specOf([passing, rollout('1100s', { durationS: 1120 })]));
    expect(problem).toBe(
      'step "rollout": a rollout of 3 replicas needs ~25 s (3 x 5 s + 10 s to see the version) but the step has 2 s left after it at the quick profile:'
      + ' make durationS >= 1350 or move the action earlier (at <= "20s")',
    );
  });

  it('each rollout action of a step is checked', () => {
    const step = rollout(0.1, { actions: [{ do: 'rollout', at: 0.1, version: '1.1.0' }, { do: 'kill', at: 0.5 }, { do: 'rollout', at: 0.9, version: '1.2.0' }] });
    expect(problems(specOf([step]))).toEqual([expect.stringMatching(/6 s left after it .*move the action earlier \(at <= 0\.58\)$/)]);
  });
});

describe('the error', () => {
  it('is one line, exit 2, every problem of the run after the spec source', () => {
    const spec = specOf([spike(), rollout(0.3)]);
    const error = unshowableError(spec, resolveProfile(spec, 'quick'), 'test.yaml');
    expect(error?.code).toBe('SLO_ERR_SPEC_UNSHOWABLE');
    expect(error?.exitCode).toBe(2);
    const line = error?.oneLine() ?? '';
    expect(line).not.toContain('\n');
    expect(line).toMatch(/^SLO_ERR_SPEC_UNSHOWABLE: test\.yaml: step "spike": .*; step "rollout": .* \(the sizes assumed for the target are slos\.scaling\.replicaCpuAtTargetM/);
    expect(unshowableError(spec, resolveProfile(spec, 'full'), 'test.yaml')).toBeNull();
  });
});

describe('the built-in default suite', () => {
  // The default suite is being re-sized to pass at quick; until then its spike and rollout steps are refused there.
  it.each(['quick', 'full'])('can show what it is judged on at %s', (profile) => {
    const spec = defaultSpec();
    expect(unshowableSteps(spec, resolveProfile(spec, profile))).toEqual([]);
  });
});
