import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSloError, type SloError } from '../contract/errors.ts';
import { defaultSpec, resolveProfile, stepExpectations } from '../contract/spec.ts';
import { loadSpec, parseSpec } from './spec-file.ts';

const repoSpec = resolve(import.meta.dirname, '..', 'slo.yaml');
const scratch = mkdtempSync(join(tmpdir(), 'slo-spec-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function failure(fn: () => unknown): SloError {
  try {
    fn();
  } catch (err) {
    if (isSloError(err)) return err as SloError;
    throw err;
  }
  throw new Error('expected a SloError');
}

describe('defaults', () => {
  it('slo.yaml at the repo root spells out exactly the built-in defaults', () => {
    expect(loadSpec(repoSpec)).toEqual(loadSpec());
  });

  it('carries the mission objectives', () => {
    const { slos } = defaultSpec();
    expect(slos.latency.p95Ms).toBe(200);
    expect(slos.errorRate.maxPercent).toBe(1);
    expect(slos.availability.minPercent).toBe(99.9);
    expect(slos.scaling).toMatchObject({ min: 3, max: 20 });
    expect(slos.failover).toEqual({ maxRecoveryS: 30, maxLostWrites: 0 });
    expect(slos.rollout.maxFailedRequests).toBe(0);
    expect(slos.selfHealing.maxReplaceS).toBe(30);
    expect(slos.observability).toEqual({ traces: true, metrics: true, logs: true, traceSampleRatio: 0.1 });
  });

  it('is deeply frozen', () => {
    const spec = loadSpec();
    expect(Object.isFrozen(spec.slos.latency)).toBe(true);
    expect(Object.isFrozen(spec.suite.steps[0]?.actions)).toBe(true);
    expect(() => {
      (spec.slos.latency as { p95Ms: number }).p95Ms = 1;
    }).toThrow(TypeError);
  });

  it('fills sections a user leaves out from the defaults', () => {
    const spec = parseSpec('version: 1\nslos:\n  latency: { p95Ms: 150 }\n', 'partial.yaml');
    expect(spec.slos.latency).toEqual({ p95Ms: 150, windowS: 30, excludeFailover: true });
    expect(spec.slos.errorRate.maxPercent).toBe(1);
    expect(Object.keys(spec.profiles)).toEqual(['quick', 'full']);
    expect(spec.suite.steps.map((s) => s.name)).toEqual(['growth', 'rollout', 'spike', 'failover']);
  });
});

describe('validation', () => {
  it('reports every problem with its path and allowed values in one line', () => {
    const text = [
      'version: 2',
      'slos:',
      '  latency: { p95Ms: -5, p99Ms: 3 }',
      '  scaling: { min: 5, max: 2 }',
      'suite:',
      '  steps:',
      '    - { name: a, scenario: nope, durationS: 10, actions: [{ at: 2, do: explode }] }',
      '    - { name: a, scenario: sustained, durationS: 10, actions: [{ at: "99s", do: failover }] }',
      'extra: true',
    ].join('\n');
    const err = failure(() => parseSpec(text, 'bad.yaml'));
    expect(err.code).toBe('SLO_ERR_SPEC_INVALID');
    expect(err.exitCode).toBe(2);
    expect(err.message).not.toContain('\n');
    const problems = err.message.replace(/^bad\.yaml: /, '').split('; ');
    expect(problems).toEqual(
      expect.arrayContaining([
        'version: version must be 1',
        'slos.latency.p95Ms: p95Ms must be a number > 0',
        'slos.latency: unknown key(s) "p99Ms" (allowed: p95Ms, windowS, excludeFailover)',
        'slos.scaling.min: min must be <= max',
        'suite.steps[0].scenario: scenario must be one of growth, spike, sustained, a path to a scenario module (.ts/.js), or a *.k6.ts script (k6 engine)',
        'suite.steps[0].actions[0].do: do must be one of: kill, rollout, failover, scale',
        '(top level): unknown key(s) "extra" (allowed: version, slos, profiles, suite, load)',
        'suite.steps[1].name: duplicate step name "a"',
        'suite.steps[1].actions[0].at: at 99s is after the end of the step (durationS 10)',
      ]),
    );
  });

  it.each([
    ['missing version', 'slos: {}', 'version: version must be 1'],
    ['percent out of range', 'version: 1\nslos: { errorRate: { maxPercent: 120 } }', 'slos.errorRate.maxPercent: maxPercent must be a number from 0 to 100'],
    ['fractional replicas', 'version: 1\nslos: { scaling: { min: 1.5 } }', 'slos.scaling.min: min must be an integer >= 1'],
    ['action time beyond the step', 'version: 1\nsuite: { steps: [{ name: s, scenario: spike, durationS: 5, actions: [{ do: kill, at: 1.5 }] }] }', 'at must be a fraction from 0 to 1 or seconds like "30s"'],
    ['bad action time', 'version: 1\nsuite: { steps: [{ name: s, scenario: spike, durationS: 5, actions: [{ do: kill, at: soon }] }] }', 'at must be a fraction from 0 to 1 or seconds like "30s"'],
    ['rollout without version', 'version: 1\nsuite: { steps: [{ name: s, scenario: spike, durationS: 5, actions: [{ do: rollout, at: 0.1 }] }] }', 'suite.steps[0].actions[0].version'],
    ['profile naming a missing step', 'version: 1\nprofiles: { p: { timeScale: 1, steps: [ghost] } }', 'profiles.p.steps[0]: unknown step "ghost" (allowed: growth, rollout, spike, failover)'],
    ['timeScale above 1', 'version: 1\nprofiles: { p: { timeScale: 3 } }', 'profiles.p.timeScale: timeScale must be a number in (0, 1]'],
    ['a trace sample ratio of 0', 'version: 1\nslos: { observability: { traceSampleRatio: 0 } }', 'slos.observability.traceSampleRatio: traceSampleRatio must be a number in (0, 1]'],
    ['unknown expectation', 'version: 1\nsuite: { steps: [{ name: s, scenario: spike, durationS: 5, expect: [speed] }] }', 'expect entries must be one of: scaling'],
    ['peak below base', 'version: 1\nsuite: { steps: [{ name: s, scenario: spike, durationS: 5, rates: { base: 10, peak: 5 } }] }', 'peak must be >= base'],
    ['not a mapping', '- 1\n- 2', 'the spec must be a YAML mapping'],
    ['empty file', '', 'the spec must be a YAML mapping'],
    ['YAML syntax', 'version: 1\nslos: { latency: [', 'line 2:'],
    ['duplicate YAML keys', 'version: 1\nversion: 1', 'Map keys must be unique'],
  ])('rejects %s', (_label, text, expected) => {
    const err = failure(() => parseSpec(text, 'spec.yaml'));
    expect(err.code).toBe('SLO_ERR_SPEC_INVALID');
    expect(err.message).toContain(expected);
  });

  it('a missing file is SLO_ERR_SPEC_NOT_FOUND', () => {
    const err = failure(() => loadSpec(join(scratch, 'absent.yaml')));
    expect(err.code).toBe('SLO_ERR_SPEC_NOT_FOUND');
    expect(err.exitCode).toBe(2);
  });

  it('resolves a script scenario against the spec file folder', () => {
    const file = join(scratch, 'custom.yaml');
    writeFileSync(file, 'version: 1\nsuite: { steps: [{ name: mine, scenario: ./load/mine.ts, durationS: 60 }] }\n');
    const spec = loadSpec(file);
    expect(spec.suite.steps[0]?.scenario).toBe(join(scratch, 'load', 'mine.ts'));
    expect(resolveProfile(spec, 'full').steps[0]?.isScript).toBe(true);
  });
});

describe('resolveProfile', () => {
  it('scales durations, action times and rates by the profile', () => {
    const spec = parseSpec(
      [
        'version: 1',
        'profiles: { half: { timeScale: 0.5, autoscalerSyncS: 5, rateScale: 0.25 } }',
        'suite:',
        '  steps:',
        '    - { name: s, scenario: spike, durationS: 200, rates: { base: 40, peak: 400 }, actions: [{ at: 0.25, do: kill }, { at: "100s", do: scale, replicas: 4 }] }',
      ].join('\n'),
      'p.yaml',
    );
    const suite = resolveProfile(spec, 'half');
    expect(suite).toMatchObject({ profile: 'half', timeScale: 0.5, autoscalerSyncS: 5, rateScale: 0.25 });
    expect(suite.steps).toEqual([
      {
        name: 's',
        scenario: 'spike',
        isScript: false,
        durationS: 100,
        rates: { base: 10, peak: 100 },
        weights: { read: 70, write: 20, cpu: 10 },
        cpuMs: 20,
        actions: [
          { do: 'kill', atS: 25 },
          { do: 'scale', atS: 50, replicas: 4 },
        ],
        expect: ['scaling'],
      },
    ]);
  });

  it('keeps the quick profile of the defaults to a few minutes', () => {
    const quick = resolveProfile(loadSpec(), 'quick');
    const total = quick.steps.reduce((sum, s) => sum + s.durationS, 0);
    expect(total).toBeGreaterThan(60);
    expect(total).toBeLessThanOrEqual(420) // 7 minutes of load at most;
  });

  it('runs only the steps a profile selects, in suite order', () => {
    const spec = parseSpec('version: 1\nprofiles: { some: { timeScale: 1, steps: [failover, growth] } }', 'p.yaml');
    expect(resolveProfile(spec, 'some').steps.map((s) => s.name)).toEqual(['growth', 'failover']);
  });

  it('an unknown profile is a usage error listing the valid ones', () => {
    const err = failure(() => resolveProfile(loadSpec(), 'fast'));
    expect(err.code).toBe('SLO_ERR_CLI_USAGE');
    expect(err.message).toContain('quick, full');
  });

  it('a spike step expects scaling unless it says otherwise', () => {
    expect(stepExpectations({ scenario: 'spike', expect: undefined })).toEqual(['scaling']);
    expect(stepExpectations({ scenario: 'spike', expect: [] })).toEqual([]);
    expect(stepExpectations({ scenario: 'sustained', expect: ['scaling'] })).toEqual(['scaling']);
    expect(stepExpectations({ scenario: 'growth', expect: undefined })).toEqual([]);
  });
});
