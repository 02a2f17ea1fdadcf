import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../contract/spec.ts';
import { runContext } from './run-context.ts';
import { TimelineBuilder, flat } from '../testing/timeline-builder.ts';
import { verdictById } from '../testing/verdicts.ts';
import { verifyValidity } from './validity.ts';

const spec = defaultSpec(); // dropped <= 1 %, achieved >= 95 %
const judge = (b: TimelineBuilder) => verifyValidity(runContext(b.records(), spec), spec);

describe('run validity', () => {
  it('a completed run with the asked load is valid', () => {
    const b = new TimelineBuilder().run(10).seconds(0, 10, { latencyMs: flat(10, 50), targetRate: 50 });
    expect(judge(b).map((v) => [v.id, v.status])).toEqual([
      ['run.completed', 'pass'],
      ['loadgen.dropped', 'pass'],
      ['loadgen.achieved', 'pass'],
    ]);
  });

  it.each([
    ['a saturated load generator', (b: TimelineBuilder) => b.run(10).event(5, 'loadgen', { state: 'saturated', reason: 'all 200 VUs busy' }), /saturated: all 200 VUs busy/],
    ['an aborted load generator', (b: TimelineBuilder) => b.run(10).event(5, 'loadgen', { state: 'aborted', reason: 'k6 exited 137' }), /aborted: k6 exited 137/],
    ['an aborted run', (b: TimelineBuilder) => b.run(10, { status: 'aborted' }), /the run ended aborted/],
    ['a run without run.end', (b: TimelineBuilder) => b.event(0, 'run.start', { runId: 'r', cluster: 'c', profile: 'full', steps: [] }), /no run.end/],
  ] as const)('%s makes the run invalid', (_label, build, reason) => {
    const b = build(new TimelineBuilder()).seconds(0, 10, { latencyMs: flat(10, 50) });
    const v = verdictById(judge(b), 'run.completed');
    expect(v.status).toBe('invalid');
    expect(v.reason).toMatch(reason);
  });

  it('too many dropped iterations make the run invalid', () => {
    const b = new TimelineBuilder().run(10).seconds(0, 10, { latencyMs: flat(10, 95), dropped: 5 });
    expect(verdictById(judge(b), 'loadgen.dropped')).toMatchObject({ status: 'invalid', measured: 5 });
  });

  it('an achieved rate below the target makes the run invalid', () => {
    const b = new TimelineBuilder().run(10).seconds(0, 10, { latencyMs: flat(10, 80), targetRate: 100 });
    expect(verdictById(judge(b), 'loadgen.achieved')).toMatchObject({ status: 'invalid', measured: 80 });
  });

  it('no load at all makes the run invalid', () => {
    expect(verdictById(judge(new TimelineBuilder().run(10)), 'loadgen.dropped')).toMatchObject({ status: 'invalid', measured: null });
  });

  it('does not judge the achieved rate when no target rate was reported', () => {
    const b = new TimelineBuilder().run(10).seconds(0, 10, { latencyMs: flat(10, 50) });
    expect(judge(b).map((v) => v.id)).toEqual(['run.completed', 'loadgen.dropped']);
  });
});
