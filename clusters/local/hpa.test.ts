// Table tests of the HPA decision against the worked examples of the Kubernetes HPA docs and the behaviour
// of replica_calculator.go / horizontal.go.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SPEC, calculateReplicas, decide, emptyMemory, type HpaSpec, type PodView } from './hpa.ts';

const T0 = 1_000_000_000;
const longAgo = T0 - 3_600_000;

/** A pod that has been Running and Ready for an hour, with a fresh metric. */
function pod(name: string, milli: number | undefined, requestMilli = 100, extra: Partial<PodView> = {}): PodView {
  return {
    name,
    phase: 'Running',
    deleting: false,
    startTime: longAgo,
    ready: { status: true, lastTransitionTime: longAgo },
    requestMilli,
    ...(milli === undefined ? {} : { metric: { milli, timestamp: T0, windowMs: 15_000 } }),
    ...extra,
  };
}

const pods = (n: number, milli: number) => Array.from({ length: n }, (_, i) => pod(`p${i}`, milli));
const spec = (overrides: Partial<HpaSpec> = {}): HpaSpec => ({ ...DEFAULT_SPEC, targetCpuUtilization: 100, minReplicas: 1, maxReplicas: 100, ...overrides });

describe('replica calculator (docs: desired = ceil(current * current/target))', () => {
  it.each([
    { name: '200m used of a 100m target doubles', n: 4, milli: 200, expected: 8 },
    { name: '50m used of a 100m target halves', n: 4, milli: 50, expected: 2 },
    { name: 'inside the 0.1 tolerance band nothing changes (105 %)', n: 4, milli: 105, expected: 4 },
    { name: 'inside the tolerance band on the way down (91 %)', n: 10, milli: 91, expected: 10 },
    { name: 'just outside the band scales (111 % of 10 pods)', n: 10, milli: 111, expected: 12 },
  ])('$name', ({ n, milli, expected }) => {
    expect(calculateReplicas(n, pods(n, milli), spec(), T0)?.replicas).toBe(expected);
  });

  it('utilization is the integer percent of summed usage over summed requests', () => {
    const result = calculateReplicas(2, [pod('a', 100, 300), pod('b', 50, 100)], spec({ targetCpuUtilization: 50 }), T0);
    expect(result?.utilization).toBe(37); // 150 / 400 = 37.5 % truncated
  });

  it('missing metrics on a scale-down count as 100 % of the request, damping the step', () => {
    const view = [...pods(3, 50), pod('missing', undefined)];
    // Without the assumption: ceil(0.5 * 3) = 2. With it: (150 + 100) / 400 = 62 % -> ceil(0.62 * 4) = 3.
    expect(calculateReplicas(4, view, spec(), T0)?.replicas).toBe(3);
  });

  it('missing metrics on a scale-up count as 0 %', () => {
    const view = [...pods(2, 300), pod('missing', undefined)];
    // (600 + 0) / 300 = 200 % -> ceil(2 * 3) = 6 (not ceil(3 * 2) computed from the 2 ready alone = 6: same) ...
    expect(calculateReplicas(3, view, spec(), T0)?.replicas).toBe(6);
    // ... and the damping shows with an odd case: 2 pods at 150 %, 1 missing: 300/300 = 100 % -> no change.
    expect(calculateReplicas(3, [...pods(2, 150), pod('missing', undefined)], spec(), T0)?.replicas).toBe(3);
  });

  it('unready pods count as 0 % on a scale-up', () => {
    const starting = pod('new', 400, 100, { ready: { status: false, lastTransitionTime: T0 - 1000 }, startTime: T0 - 2000 });
    // Ready pods alone: 2 x 150 % -> 3; with the unready one at 0 %: 300 / 300 = 100 % -> no change.
    expect(calculateReplicas(3, [...pods(2, 150), starting], spec(), T0)?.replicas).toBe(3);
  });

  it('unready pods are left out of a scale-down', () => {
    const starting = pod('new', 400, 100, { ready: { status: false, lastTransitionTime: T0 - 1000 }, startTime: T0 - 2000 });
    expect(calculateReplicas(3, [...pods(2, 20), starting], spec(), T0)?.replicas).toBe(1);
  });

  it('a pod ready for less than one metric window inside the initialisation period is unready', () => {
    const fresh = pod('fresh', 900, 100, { startTime: T0 - 10_000, ready: { status: true, lastTransitionTime: T0 - 5_000 } });
    expect(calculateReplicas(2, [pod('old', 200), fresh], spec(), T0)?.replicas).toBe(2); // (200 + 0) / 200 = 100 %
  });

  it('deleting and failed pods are ignored; no usable metric is an error (null)', () => {
    expect(calculateReplicas(1, [pod('gone', 500, 100, { deleting: true })], spec(), T0)).toBeNull();
    expect(calculateReplicas(0, [], spec(), T0)).toBeNull();
  });
});

describe('controller decision with behavior', () => {
  it('clamps to min and max before looking at metrics', () => {
    expect(decide(spec({ minReplicas: 3 }), emptyMemory(), 2, pods(2, 0), T0).desired).toBe(3);
    expect(decide(spec({ maxReplicas: 20 }), emptyMemory(), 25, pods(25, 0), T0).desired).toBe(20);
    expect(decide(spec({ maxReplicas: 20 }), emptyMemory(), 15, pods(15, 1000), T0).desired).toBe(20);
  });

  it('default scale-up: at most max(+4 pods, +100 %) per 15 s', () => {
    let memory = emptyMemory();
    const first = decide(spec(), memory, 3, pods(3, 1000), T0); // wants 30
    expect(first.recommended).toBe(30);
    expect(first.desired).toBe(7); // max(3 + 4, 3 * 2)
    memory = first.memory;
    // 5 s later the 15 s period still holds the +4: the period started at 3, so the limit is still 7.
    expect(decide(spec(), memory, 7, pods(7, 1000), T0 + 5_000).desired).toBe(7);
    // After the period, the limit is computed from 7: max(11, 14) = 14.
    expect(decide(spec(), memory, 7, pods(7, 1000), T0 + 16_000).desired).toBe(14);
  });

  it('scale-down stabilization: the highest recommendation of the last 300 s wins', () => {
    const s = spec({ behavior: { ...DEFAULT_SPEC.behavior, scaleDown: { ...DEFAULT_SPEC.behavior.scaleDown, stabilizationWindowSeconds: 300 } } });
    let memory = emptyMemory();
    let d = decide(s, memory, 10, pods(10, 100), T0); // at target: recommends 10
    expect(d.desired).toBe(10);
    memory = d.memory;
    d = decide(s, memory, 10, pods(10, 50), T0 + 60_000); // recommends 5, window holds 10
    expect(d.recommended).toBe(5);
    expect(d.desired).toBe(10);
    memory = d.memory;
    d = decide(s, memory, 10, pods(10, 50), T0 + 301_000); // the 10 left the window; the 5 at +60 s remains
    expect(d.desired).toBe(5);
  });

  it('docs example: scale-down Pods 4/60 s and Percent 10/60 s; Max picks the larger change, Min the smaller', () => {
    const rules = (selectPolicy: 'Max' | 'Min' | 'Disabled') => spec({
      behavior: {
        ...DEFAULT_SPEC.behavior,
        scaleDown: { stabilizationWindowSeconds: 0, selectPolicy, policies: [{ type: 'Pods', value: 4, periodSeconds: 60 }, { type: 'Percent', value: 10, periodSeconds: 60 }] },
      },
    });
    // 80 pods: 10 % = 8 pods > 4 pods.
    expect(decide(rules('Max'), emptyMemory(), 80, pods(80, 10), T0).desired).toBe(72);
    expect(decide(rules('Min'), emptyMemory(), 80, pods(80, 10), T0).desired).toBe(76);
    // 20 pods: 10 % = 2 pods < 4 pods, so Max takes the Pods policy.
    expect(decide(rules('Max'), emptyMemory(), 20, pods(20, 10), T0).desired).toBe(16);
    expect(decide(rules('Disabled'), emptyMemory(), 20, pods(20, 10), T0).desired).toBe(20);
  });

  it('docs example: scale-up Percent 900 allows x10 per period', () => {
    const s = spec({ behavior: { ...DEFAULT_SPEC.behavior, scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 900, periodSeconds: 60 }] } } });
    expect(decide(s, emptyMemory(), 1, pods(1, 5000), T0).desired).toBe(10);
  });

  it('scale-up stabilization window takes the lowest recommendation in the window', () => {
    const s = spec({ behavior: { ...DEFAULT_SPEC.behavior, scaleUp: { ...DEFAULT_SPEC.behavior.scaleUp, stabilizationWindowSeconds: 60 } } });
    const first = decide(s, emptyMemory(), 4, pods(4, 100), T0); // recommends 4
    const second = decide(s, first.memory, 4, pods(4, 200), T0 + 10_000); // recommends 8, window still holds 4
    expect(second.recommended).toBe(8);
    expect(second.desired).toBe(4);
  });
});
