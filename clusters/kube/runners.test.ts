import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { LogCursor, RUNNERS_LABEL, runnerIndex, runnerManifests, stuckReason } from './runners.ts';

const request = {
  name: 'slo-load-steady-abc', runners: 3, plan: '{"baseUrl":"http://svc"}', deadlineS: 200,
  placement: { nodeSelector: { pool: 'load' }, resources: { requests: { cpu: '500m' }, limits: { memory: '256Mi' } } },
};

describe('runnerManifests', () => {
  it('is an Indexed Job of N pods, no retries, a deadline, the plan from a ConfigMap, placed as the spec says', () => {
    const { configMap, job } = runnerManifests(request, 'registry/slo-load:1', 'shop');
    expect(configMap.metadata).toMatchObject({ name: 'slo-load-steady-abc-plan', namespace: 'shop', labels: { [RUNNERS_LABEL]: request.name } });
    expect(configMap.data).toEqual({ 'plan.json': request.plan });
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 3, parallelism: 3, backoffLimit: 0, activeDeadlineSeconds: 200 });
    const pod = job.spec!.template.spec!;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.nodeSelector).toEqual({ pool: 'load' });
    expect(job.spec!.template.metadata!.labels![RUNNERS_LABEL]).toBe(request.name);
    const container = pod.containers[0]!;
    expect(container.image).toBe('registry/slo-load:1');
    expect(container.args).toEqual(['--plan', '/plan/plan.json']);
    expect(container.resources).toEqual({ requests: { cpu: '500m' }, limits: { memory: '256Mi' } });
    expect(pod.volumes).toEqual([{ name: 'plan', configMap: { name: 'slo-load-steady-abc-plan' } }]);
  });

  it('leaves out what the spec does not set', () => {
    const { job } = runnerManifests({ ...request, placement: {} }, 'i', 'ns');
    expect(job.spec!.template.spec!.nodeSelector).toBeUndefined();
    expect(job.spec!.template.spec!.containers[0]!.resources).toBeUndefined();
    expect(() => runnerManifests({ ...request, runners: 0 }, 'i', 'ns')).toThrow();
  });
});

describe('runner pods', () => {
  it('reads the completion index, and why a pod is stuck', () => {
    const pod = (extra: Partial<V1Pod>): V1Pod => ({ metadata: { name: 'p', annotations: { 'batch.kubernetes.io/job-completion-index': '2' } }, ...extra });
    expect(runnerIndex(pod({}))).toBe(2);
    expect(runnerIndex({ metadata: { name: 'x' } })).toBeUndefined();
    expect(stuckReason(pod({ status: { containerStatuses: [{ name: 'slo-load', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImagePull', message: 'not found' } } }] } })))
      .toBe('ErrImagePull: not found');
    expect(stuckReason(pod({ status: { containerStatuses: [{ name: 'slo-load', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] } }))).toBeUndefined();
    expect(stuckReason(pod({ status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes match' }] } }))).toBe('unschedulable: 0/1 nodes match');
  });

  it('a log stream followed again skips the lines it already gave, even with equal timestamps', () => {
    const cursor = new LogCursor();
    const first = ['t1 a', 't2 b', 't2 c'].map((l) => cursor.take(l));
    expect(first).toEqual(['a', 'b', 'c']);
    cursor.rewind();
    // sinceTime is whole seconds: the server repeats from before the cursor.
    expect(['t0 z', 't1 a', 't2 b', 't2 c', 't2 d', 't3 e'].map((l) => cursor.take(l))).toEqual([null, null, null, null, 'd', 'e']);
  });
});
