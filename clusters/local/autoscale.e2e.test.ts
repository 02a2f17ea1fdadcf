// The autoscaler end to end, compressed: a 2 s sync period, CPU-heavy requests push the HPA from 3 to its
// maximum of 20 replicas, and once the load stops it comes back to 3 after the (shortened) scale-down
// stabilization window. Judged from the `hpa` and `replicas` events of the timeline.
import { afterAll, describe, expect, it } from 'vitest';
import { eventsOf } from '../../contract/timeline.ts';
import { readTimeline } from '../../harness/timeline-file.ts';
import type { Cluster } from '../types.ts';
import { createLocalCluster } from './index.ts';
import { STAND_IN_COMMAND, newRunsRoot, testContext } from '../../testing/local/harness-context.ts';
import { startLoadLoop, type LoadLoop } from '../../testing/local/load-loop.ts';
import { sleep } from '../wait.ts';

const ctx = testContext(newRunsRoot(), 'autoscale');
let cluster: Cluster | undefined;
let load: LoadLoop | undefined;

afterAll(async () => {
  await load?.stop();
  await cluster?.down();
});

async function waitForReplicas(predicate: (desired: number, ready: number) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = eventsOf(readTimeline(ctx.timelineFile), 'replicas').at(-1);
    if (last && predicate(last.data.desired, last.data.ready)) return;
    if (Date.now() > deadline) throw new Error(`replicas stuck at ${JSON.stringify(last?.data)}`);
    await sleep(500);
  }
}

describe('HPA on the local cluster', () => {
  it('CPU load scales 3 -> 20, and back to 3 when it stops', async () => {
    cluster = createLocalCluster(ctx, {
      app: STAND_IN_COMMAND,
      replicas: { min: 3, max: 20, initial: 3 },
      autoscalerSyncS: 2,
      settings: {
        database: false,
        prometheus: false,
        cpuRequestMilli: 50,
        targetCpuPercent: 50,
        scaleDownStabilizationS: 20,
        cpuInitializationPeriodS: 20,
        propagationDelayMs: 500,
        drainDelayMs: 600,
      },
    });
    await cluster.up();
    load = startLoadLoop(`${cluster.endpoint().baseUrl}/api/cpu?ms=20`, 6, 0);
    await waitForReplicas((desired, ready) => desired === 20 && ready === 20, 240_000);
    await load.stop();
    load = undefined;
    await waitForReplicas((desired, ready) => desired === 3 && ready === 3, 240_000);

    // pod.stop is written when a pod has exited, after its drain: give the last ones that long.
    const scaleDownStops = () => eventsOf(readTimeline(ctx.timelineFile), 'pod.stop').filter((e) => e.data.reason === 'scale-down');
    for (let i = 0; i < 50 && scaleDownStops().length < 17; i++) await sleep(200);
    expect(scaleDownStops().length).toBeGreaterThanOrEqual(17);

    const records = readTimeline(ctx.timelineFile);
    const hpa = eventsOf(records, 'hpa');
    const decisions = hpa.map((e) => e.data.desired);
    expect(Math.max(...decisions)).toBe(20);
    // Scale-up is rate limited (max(+4, +100 %) per period): 3 never jumps straight to 20.
    const ups = hpa.filter((e) => e.data.desired > e.data.current);
    expect(ups.length).toBeGreaterThanOrEqual(2);
    for (const e of ups) expect(e.data.desired).toBeLessThanOrEqual(Math.max(e.data.current + 4, e.data.current * 2));
    // Scale-down waited for the stabilization window after the last high recommendation.
    const firstDown = hpa.find((e) => e.data.desired < e.data.current);
    const lastAtMax = hpa.filter((e) => e.data.desired === 20 && e.t < (firstDown?.t ?? 0)).at(-1);
    expect(firstDown && lastAtMax).toBeTruthy();
    expect(hpa.at(-1)?.data.cpuPercent).not.toBeNull();
  });
});
