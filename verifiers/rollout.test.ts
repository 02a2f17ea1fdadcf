import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../contract/spec.ts';
import { verifyRollout } from './rollout.ts';
import { runContext } from './run-context.ts';
import { TimelineBuilder, flat, type SecondOfLoad } from '../testing/timeline-builder.ts';
import { verdictById } from '../testing/verdicts.ts';

const spec = defaultSpec(); // 0 failed requests during a rollout
const judge = (b: TimelineBuilder) => verifyRollout(runContext(b.records(), spec), spec);

interface RolloutOptions {
  failedDuring?: number;
  complete?: boolean;
  events?: boolean;
  versionAt?: (s: number) => Record<string, number>;
}

/** A 100 s step; rollout 1.0.0 -> 1.1.0 runs from 30 s to 60 s. */
function rolloutRun(options: RolloutOptions = {}): TimelineBuilder {
  const versionAt = options.versionAt ?? ((s: number): Record<string, number> => (s < 30 ? { '1.0.0': 20 } : s < 60 ? { '1.0.0': 10, '1.1.0': 10 } : { '1.1.0': 20 }));
  const b = new TimelineBuilder().run(100).step('rollout', 'sustained', 0, 100).event(30, 'action.start', { action: 'rollout', detail: { version: '1.1.0' } });
  if (options.events !== false) {
    b.event(30.2, 'rollout', { from: '1.0.0', to: '1.1.0', state: 'start', updated: 0, total: 3 });
    if (options.complete !== false) b.event(60, 'rollout', { from: '1.0.0', to: '1.1.0', state: 'complete', updated: 3, total: 3 });
  }
  if (options.complete !== false) b.event(60.5, 'action.end', { action: 'rollout', ok: true });
  return b.seconds(0, 100, (s): SecondOfLoad => ({ latencyMs: flat(15, 20), versions: versionAt(s), failed: s === 45 ? (options.failedDuring ?? 0) : 0 }));
}

describe('rollout', () => {
  it('a clean rollout passes both verdicts', () => {
    const verdicts = judge(rolloutRun());
    expect(verdicts.map((v) => [v.id, v.status, v.measured])).toEqual([
      ['rollout.failedRequests', 'pass', 0],
      ['rollout.versionSwitch', 'pass', 0],
    ]);
    expect(verdictById(verdicts, 'rollout.failedRequests').evidence.samples).toBe(30 * 20); // seconds 30..59
  });

  it('one failed request during the rollout fails', () => {
    const v = verdictById(judge(rolloutRun({ failedDuring: 1 })), 'rollout.failedRequests');
    expect(v).toMatchObject({ status: 'fail', measured: 1 });
  });

  it('a rollout that never completes fails', () => {
    const verdicts = judge(rolloutRun({ complete: false }));
    expect(verdictById(verdicts, 'rollout.failedRequests')).toMatchObject({ status: 'fail', reason: 'the rollout never completed' });
    expect(verdictById(verdicts, 'rollout.versionSwitch').status).toBe('fail');
  });

  it('a failed rollout fails', () => {
    const b = rolloutRun({ complete: false }).event(50, 'rollout', { from: '1.0.0', to: '1.1.0', state: 'failed', updated: 1, total: 3 });
    expect(verdictById(judge(b), 'rollout.failedRequests').reason).toMatch(/the rollout failed/);
  });

  it.each([
    ['old version still answering after completion', (s: number): Record<string, number> => (s < 30 ? { '1.0.0': 20 } : s < 70 ? { '1.0.0': 10, '1.1.0': 10 } : { '1.1.0': 20 }), 'fail', 100],
    ['new version answering before the rollout', (s: number): Record<string, number> => (s === 10 ? { '1.0.0': 19, '1.1.0': 1 } : s < 30 ? { '1.0.0': 20 } : { '1.1.0': 20 }), 'fail', 1],
  ] as const)('version switch: %s', (_label, versionAt, status, measured) => {
    const v = verdictById(judge(rolloutRun({ versionAt })), 'rollout.versionSwitch');
    expect(v.status).toBe(status);
    expect(v.measured).toBe(measured);
  });

  it('without x-app-version headers the switch cannot be judged and fails', () => {
    const v = verdictById(judge(rolloutRun({ versionAt: () => ({}) })), 'rollout.versionSwitch');
    expect(v.status).toBe('fail');
    expect(v.measured).toBeNull();
    expect(v.reason).toMatch(/no x-app-version/);
  });

  it('without rollout events, action.end and the asked version stand in', () => {
    const verdicts = judge(rolloutRun({ events: false }));
    expect(verdicts.map((v) => v.status)).toEqual(['pass', 'pass']);
    expect(verdictById(verdicts, 'rollout.versionSwitch').evidence.detail).toMatchObject({ from: '1.0.0', to: '1.1.0' });
  });

  it('judges nothing when no rollout ran', () => {
    expect(judge(new TimelineBuilder().run(10).seconds(0, 10, { latencyMs: flat(10, 5) }))).toEqual([]);
  });
});
