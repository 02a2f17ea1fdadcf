import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../contract/spec.ts';
import { runContext } from './run-context.ts';
import { verifySelfHealing } from './self-healing.ts';
import { TimelineBuilder } from '../testing/timeline-builder.ts';

const spec = defaultSpec(); // replaced within 30 s
const judge = (b: TimelineBuilder) => verifySelfHealing(runContext(b.records(), spec), spec);

function killRun(readyAtS: number | null, readyPod = 'app-4'): TimelineBuilder {
  const b = new TimelineBuilder()
    .run(200)
    .event(5, 'pod.ready', { pod: 'app-1', version: '1.0.0' })
    .event(50, 'action.start', { action: 'kill', detail: { pod: 'app-1' } })
    .event(50.3, 'pod.stop', { pod: 'app-1', reason: 'killed', exitCode: 137 })
    .event(50.4, 'action.end', { action: 'kill', ok: true });
  if (readyAtS !== null) b.event(readyAtS - 3, 'pod.start', { pod: readyPod, version: '1.0.0' }).event(readyAtS, 'pod.ready', { pod: readyPod, version: '1.0.0' });
  return b;
}

describe('self-healing', () => {
  it.each([
    ['replacement ready after 12 s passes', 62, 'app-4', 'pass', 12],
    ['a restart under the same name counts', 58, 'app-1', 'pass', 8],
    ['replacement after 45 s fails', 95, 'app-4', 'fail', 45],
    ['no replacement fails', null, 'app-4', 'fail', null],
  ] as const)('%s', (_label, readyAt, pod, status, measured) => {
    const [v] = judge(killRun(readyAt, pod));
    expect(v?.status).toBe(status);
    expect(v?.measured).toBe(measured);
    expect(v?.id).toBe('selfHealing.replace');
    if (status === 'fail') expect(v?.reason).toBeTruthy();
  });

  it('a pod already starting when the kill came is not its replacement, however soon it is ready', () => {
    const b = killRun(null)
      .event(44, 'pod.start', { pod: 'app-9', version: '1.0.0', owner: 'rs-1' }) // the autoscaler's
      .event(50.5, 'pod.ready', { pod: 'app-9', version: '1.0.0', owner: 'rs-1' })
      .event(50.4, 'pod.start', { pod: 'app-5', version: '1.0.0', owner: 'rs-1' }) // the ReplicaSet's replacement
      .event(53.5, 'pod.ready', { pod: 'app-5', version: '1.0.0', owner: 'rs-1' });
    const [v] = judge(b);
    expect(v).toMatchObject({ status: 'pass', measured: 3.5 });
    expect(v?.evidence.notes.at(-1)).toMatch(/^app-5 /);
  });

  it('a pod of another owner is not the replacement', () => {
    const b = new TimelineBuilder()
      .run(200)
      .event(5, 'pod.start', { pod: 'app-1', version: '1.0.0', owner: 'rs-app' })
      .event(50, 'action.start', { action: 'kill', detail: { pod: 'app-1' } })
      .event(50.3, 'pod.stop', { pod: 'app-1', reason: 'killed', exitCode: 137 })
      .event(51, 'pod.start', { pod: 'runner-0', version: '1.0.0', owner: 'job-load' })
      .event(52, 'pod.ready', { pod: 'runner-0', version: '1.0.0', owner: 'job-load' })
      .event(51, 'pod.start', { pod: 'app-2', version: '1.0.0', owner: 'rs-app' })
      .event(56, 'pod.ready', { pod: 'app-2', version: '1.0.0', owner: 'rs-app' });
    const [v] = judge(b);
    expect(v).toMatchObject({ status: 'pass', measured: 6 });
  });

  it('notes the kill, the stop and the replacement', () => {
    const [v] = judge(killRun(62));
    expect(v?.evidence.notes).toEqual([
      expect.stringMatching(/^kill \+50s .* of app-1$/),
      expect.stringMatching(/^app-1 stopped \+50.3s/),
      expect.stringMatching(/^app-4 \(1.0.0\) ready \+62s/),
    ]);
  });

  it('a failed kill action fails', () => {
    const b = new TimelineBuilder().run(100).event(50, 'action.start', { action: 'kill' }).event(51, 'action.end', { action: 'kill', ok: false, error: 'no pods' });
    const [v] = judge(b);
    expect(v).toMatchObject({ status: 'fail', reason: 'the kill action failed: no pods' });
  });

  it('judges nothing when nothing was killed', () => {
    expect(judge(new TimelineBuilder().run(100))).toEqual([]);
  });
});
