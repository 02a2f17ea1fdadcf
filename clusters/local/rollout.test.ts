// Rolling updates under load, judged from the recorded timeline and the response headers: a service that
// drains on SIGTERM loses nothing; the same service with no drain delay drops requests, because the load
// balancer keeps sending to it for the propagation delay, as kube-proxy and ingresses do.
import { afterAll, describe, expect, it } from 'vitest';
import { eventsOf } from '../../contract/timeline.ts';
import { readTimeline } from '../../harness/timeline-file.ts';
import type { Cluster } from '../types.ts';
import { createLocalCluster } from './index.ts';
import { STAND_IN_COMMAND, newRunsRoot, testContext } from '../../testing/local/harness-context.ts';
import { failed, startLoadLoop, type Outcome } from '../../testing/local/load-loop.ts';
import { sleep } from '../wait.ts';

const runsRoot = newRunsRoot();
const clusters: Cluster[] = [];

async function rolloutUnderLoad(runName: string, drainDelayMs: number, propagationDelayMs = 1500) {
  const ctx = testContext(runsRoot, runName);
  const cluster = createLocalCluster(ctx, {
    app: STAND_IN_COMMAND,
    version: 'v1',
    replicas: { min: 3, max: 20, initial: 3 },
    settings: { database: false, prometheus: false, hpa: false, drainDelayMs, propagationDelayMs, terminationGraceMs: 10_000 },
  });
  clusters.push(cluster);
  await cluster.up();
  const load = startLoadLoop(`${cluster.endpoint().baseUrl}/api/cpu?ms=1`, 4, 5);
  await sleep(500);
  const rolloutStart = Date.now();
  await cluster.rollout?.('v2');
  const rolloutEnd = Date.now();
  await sleep(500);
  const outcomes = await load.stop();
  await cluster.down();
  return { records: readTimeline(ctx.timelineFile), outcomes, rolloutStart, rolloutEnd };
}

const versionsAfter = (outcomes: readonly Outcome[], t: number) => new Set(outcomes.filter((o) => o.t > t && o.status === 200).map((o) => o.version));

afterAll(async () => {
  await Promise.all(clusters.map((c) => c.down()));
});

describe('rolling update (maxSurge 1, maxUnavailable 0)', () => {
  it('with a drain delay longer than the propagation delay: zero failed requests, every replica replaced', async () => {
    const { records, outcomes, rolloutStart, rolloutEnd } = await rolloutUnderLoad('drain', 3000);
    expect(outcomes.length).toBeGreaterThan(200);
    expect(failed(outcomes)).toEqual([]);

    const started = eventsOf(records, 'pod.start');
    const v1Pods = started.filter((e) => e.data.version === 'v1').map((e) => e.data.pod);
    const v2Pods = started.filter((e) => e.data.version === 'v2').map((e) => e.data.pod);
    expect(v1Pods).toHaveLength(3);
    expect(v2Pods).toHaveLength(3);
    // Every v1 pod was stopped by the rollout, and cleanly (exit 0 after draining).
    const stops = eventsOf(records, 'pod.stop').filter((e) => e.data.reason === 'rollout');
    expect(stops.map((e) => e.data.pod).sort()).toEqual([...v1Pods].sort());
    expect(stops.every((e) => e.data.exitCode === 0)).toBe(true);
    // maxUnavailable 0: ready replicas never dropped below 3 while the rollout ran; maxSurge 1: never above 4.
    const during = eventsOf(records, 'replicas').filter((e) => e.t >= rolloutStart && e.t <= rolloutEnd);
    expect(during.length).toBeGreaterThan(0);
    expect(Math.min(...during.map((e) => e.data.ready))).toBeGreaterThanOrEqual(3);
    expect(Math.max(...during.map((e) => e.data.ready))).toBeLessThanOrEqual(4);
    // Each new pod was ready before the old pod of its step began to go.
    const states = eventsOf(records, 'rollout').map((e) => e.data.state);
    expect(states).toEqual(['start', 'progress', 'progress', 'progress', 'complete']);
    // Clients saw both versions during the rollout and only v2 once it completed.
    expect(new Set(outcomes.map((o) => o.version))).toEqual(new Set(['v1', 'v2']));
    expect(versionsAfter(outcomes, rolloutEnd)).toEqual(new Set(['v2']));
    const instancesAfter = new Set(outcomes.filter((o) => o.t > rolloutEnd).map((o) => o.instance));
    expect([...instancesAfter].sort()).toEqual([...v2Pods].sort());
  });

  it('negative: the same rollout with no drain delay fails requests', async () => {
    // A longer propagation delay than above, so a busy machine still sends requests into the gap.
    const { outcomes, records } = await rolloutUnderLoad('no-drain', 0, 3000);
    expect(failed(outcomes).length).toBeGreaterThan(0);
    expect(eventsOf(records, 'rollout').at(-1)?.data.state).toBe('complete');
  });
});
