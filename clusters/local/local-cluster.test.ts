// The local cluster with real processes: HAProxy, Prometheus and three replicas of the stand-in service
// given as a user's `--app` command. Up, traffic, scale, kill, server-side latency, and a teardown that
// leaves no process and no port behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { eventsOf } from '../../contract/timeline.ts';
import { readTimeline } from '../../harness/timeline-file.ts';
import type { Cluster } from '../types.ts';
import { createLocalCluster, queryServerP95 } from './index.ts';
import { SCRAPE_INTERVAL_S } from './prometheus.ts';
import { STAND_IN_COMMAND, newRunsRoot, testContext } from '../../testing/local/harness-context.ts';
import { failed, startLoadLoop } from '../../testing/local/load-loop.ts';
import { sleep } from '../wait.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const portAnswers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/** Pids of every process group the cluster started, read from its pid files. */
const pidsOf = (runDir: string) =>
  readdirSync(join(runDir, 'pids'))
    .filter((f) => f.endsWith('.pid'))
    .map((f) => Number(readFileSync(join(runDir, 'pids', f), 'utf8')));

describe('local cluster', () => {
  const runsRoot = newRunsRoot();
  const ctx = testContext(runsRoot, 'basic');
  let cluster: Cluster & { podNames(): string[] };
  const ports = new Set<number>();
  let pids: number[] = [];

  beforeAll(async () => {
    cluster = createLocalCluster(ctx, {
      app: STAND_IN_COMMAND,
      version: 'v1',
      replicas: { min: 3, max: 20, initial: 3 },
      settings: { database: false, hpa: false, drainDelayMs: 1500, propagationDelayMs: 500, restartBackoffMs: 300 },
    }) as Cluster & { podNames(): string[] };
    await cluster.up();
  });

  afterAll(async () => {
    await cluster.down();
  });

  it('serves through HAProxy from three ready replicas', async () => {
    const { baseUrl } = cluster.endpoint();
    const instances = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const response = await fetch(`${baseUrl}/api/cpu?ms=1`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-app-version')).toBe('v1');
      instances.add(response.headers.get('x-instance-id') ?? '');
    }
    expect([...instances].sort()).toEqual(cluster.podNames().sort());
    expect(instances.size).toBe(3);
    const replicas = eventsOf(readTimeline(ctx.timelineFile), 'replicas');
    expect(replicas.at(-1)?.data).toEqual({ desired: 3, ready: 3 });
    expect(eventsOf(readTimeline(ctx.timelineFile), 'pod.ready')).toHaveLength(3);
  });

  it('scales to 5 and back to 3, traffic reaching only live pods', async () => {
    await cluster.scale?.(5);
    expect(cluster.podNames()).toHaveLength(5);
    expect(eventsOf(readTimeline(ctx.timelineFile), 'replicas').at(-1)?.data).toEqual({ desired: 5, ready: 5 });
    const load = startLoadLoop(`${cluster.endpoint().baseUrl}/api/cpu?ms=1`, 2);
    await cluster.scale?.(3);
    const outcomes = await load.stop();
    expect(cluster.podNames()).toHaveLength(3);
    // The removed pods drained (1.5 s > 0.5 s propagation): nothing failed.
    expect(failed(outcomes)).toEqual([]);
    const records = readTimeline(ctx.timelineFile);
    expect(eventsOf(records, 'pod.stop').filter((e) => e.data.reason === 'scale-down')).toHaveLength(2);
    expect(eventsOf(records, 'replicas').at(-1)?.data).toEqual({ desired: 3, ready: 3 });
  });

  it('a killed pod is restarted by the kubelet: pod.stop killed, then pod.start and pod.ready', async () => {
    const since = Date.now();
    const victim = await cluster.killPod?.();
    expect(victim).toMatch(/^app-v1-\d+$/);
    const deadline = Date.now() + 15_000;
    let ready = false;
    while (!ready && Date.now() < deadline) {
      await sleep(200);
      ready = eventsOf(readTimeline(ctx.timelineFile), 'pod.ready').some((e) => e.data.pod === victim && e.t >= since);
    }
    const records = readTimeline(ctx.timelineFile).filter((r) => r.t >= since);
    const sequence = records.filter((r) => r.kind === 'event' && 'pod' in r.data && r.data.pod === victim).map((r) => (r.kind === 'event' ? r.type : ''));
    expect(sequence).toEqual(['pod.stop', 'pod.start', 'pod.ready']);
    expect(eventsOf(records, 'pod.stop')[0]?.data.reason).toBe('killed');
    // Back in rotation: HAProxy's health check brings it UP again.
    const seen = new Set<string>();
    for (let i = 0; i < 30 && !seen.has(victim ?? ''); i++) seen.add((await fetch(`${cluster.endpoint().baseUrl}/health`)).headers.get('x-instance-id') ?? '');
    expect(seen.has(victim ?? '')).toBe(true);
  });

  it('Prometheus scrapes the replicas: server-side p95 and request count', async () => {
    const from = Date.now();
    const load = startLoadLoop(`${cluster.endpoint().baseUrl}/api/cpu?ms=20`, 2);
    await sleep(4_000);
    await load.stop();
    await sleep(SCRAPE_INTERVAL_S * 1000); // one more scrape
    const { p95Ms, requests } = await queryServerP95(cluster.endpoint().prometheusUrl ?? '', from, Date.now());
    // Every request burns 20 ms of CPU: the 10-25 ms bucket of the stand-in's histogram, 25-50 ms on a busy machine.
    expect(p95Ms).toBeGreaterThanOrEqual(20);
    expect(p95Ms).toBeLessThanOrEqual(50);
    expect(requests).toBeGreaterThan(20);
  });

  it('down() leaves no process and no port behind, and is idempotent', async () => {
    pids = pidsOf(ctx.runDir);
    expect(pids.length).toBeGreaterThanOrEqual(5); // haproxy, prometheus, 3 pods
    ports.add(new URL(cluster.endpoint().baseUrl).port === '' ? 0 : Number(new URL(cluster.endpoint().baseUrl).port));
    ports.add(Number(new URL(cluster.endpoint().prometheusUrl ?? '').port));
    const targets = JSON.parse(readFileSync(join(ctx.runDir, 'prometheus', 'targets.json'), 'utf8')) as { targets: string[] }[];
    for (const group of targets) for (const target of group.targets) ports.add(Number(target.split(':')[1]));
    expect(ports.size).toBeGreaterThanOrEqual(5);
    await cluster.down();
    await cluster.down();
    expect(pids.filter(alive)).toEqual([]);
    for (const port of ports) expect(await portAnswers(port), `port ${port}`).toBe(false);
    const stops = eventsOf(readTimeline(ctx.timelineFile), 'pod.stop').filter((e) => e.data.reason === 'teardown');
    expect(stops).toHaveLength(3);
  });
});
