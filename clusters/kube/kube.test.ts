// The kube adapter against the Kubernetes API stand-in in testing/kube-standin (an in-process HTTP server,
// NOT a real cluster): real @kubernetes/client-node calls and watch streams, real timeline files. What a real
// API server can show runs against the embedded cluster instead (tests/embedded-cluster.test.ts: a pod
// killed and replaced by its ReplicaSet, a restart through a new ReplicaSet, opt-in refusals, RBAC's 403, a
// 404; tests/rollout-on-kubernetes.test.ts and the e2e suite: rollouts to a new version, the HPA, failovers).
// What stays here is what a real server cannot be made to do on demand: injected failures on one call, watch
// streams ended mid-run, a CloudNativePG status without the operator, and the exact patch a rollout sends.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { eventsOf } from '../../contract/timeline.ts';
import { TimelineWriter, readTimeline } from '../../harness/timeline-file.ts';
import type { ClusterContext } from '../types.ts';
import { startKubeStandin, type KubeStandin } from '../../testing/kube-standin/server.ts';
import { COLLECTIONS, cnpgCluster, deployment, hpa, kubeconfigYaml, namespace, pod } from '../../testing/kube-standin/fixtures.ts';
import { KubeCluster, createKubeCluster, parseKubeSettings } from './index.ts';
import { sleep } from '../wait.ts';

let standin: KubeStandin;
let scratch: string;
const clusters: KubeCluster[] = [];
let counter = 0;

beforeAll(async () => {
  standin = await startKubeStandin();
  scratch = mkdtempSync(join(tmpdir(), 'kube-adapter-'));
});

afterEach(async () => {
  for (const c of clusters.splice(0)) await c.down();
  standin.clearFaults();
});

afterAll(async () => {
  await standin.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'standin', server: standin.url, skipTLSVerify: true }],
    users: [{ name: 'tester' }],
    contexts: [{ name: 'standin', cluster: 'standin', user: 'tester' }],
    currentContext: 'standin',
  });
  return kc;
}

/** A fresh namespace seeded like a running reference app: 3 ready pods on v1, HPA, a CNPG cluster. */
function seed(labels: Record<string, string> = {}): string {
  const ns = `ns${++counter}`;
  standin.put(COLLECTIONS.namespaces, namespace(ns, labels));
  standin.put(COLLECTIONS.deployments, deployment(ns));
  const longAgo = new Date(Date.now() - 3_600_000);
  for (const i of [1, 2, 3]) standin.put(COLLECTIONS.pods, pod(ns, `app-v1-${i}`, { ready: true, createdAt: longAgo }));
  standin.put(COLLECTIONS.hpas, hpa(ns, 3, 3, 12));
  standin.put(COLLECTIONS.cnpgClusters, cnpgCluster(ns, 'orders-db-1'));
  return ns;
}

function makeCluster(ns: string, extra: Record<string, string> = {}) {
  const file = join(scratch, `timeline-${ns}-${Date.now()}.jsonl`);
  writeFileSync(file, '');
  const abort = new AbortController();
  const logs: string[] = [];
  const ctx: ClusterContext = { runDir: scratch, timeline: new TimelineWriter(file), signal: abort.signal, log: (l) => logs.push(l) };
  const settings = parseKubeSettings({ namespace: ns, serviceUrl: 'http://orders.example.test', cnpgCluster: 'orders-db', rolloutTimeoutS: 20, failoverTimeoutS: 20, ...extra });
  const cluster = new KubeCluster(ctx, settings, kubeConfig());
  clusters.push(cluster);
  return { cluster, timeline: () => readTimeline(file), logs };
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}


describe('observation through watches', () => {
  it('turns deployment, pod, HPA and CNPG watch events into timeline events', async () => {
    const ns = seed();
    const { cluster, timeline } = makeCluster(ns);
    await expect(cluster.up()).resolves.toEqual({ baseUrl: 'http://orders.example.test' });

    // Initial state: the replay of existing objects.
    await waitFor('initial events', () => eventsOf(timeline(), 'pod.ready').length === 3 && eventsOf(timeline(), 'db.role').length === 1);
    const initial = timeline();
    expect(eventsOf(initial, 'replicas').map((e) => e.data)).toEqual([{ desired: 3, ready: 3 }]);
    expect(eventsOf(initial, 'pod.start').map((e) => e.data.pod).sort()).toEqual(['app-v1-1', 'app-v1-2', 'app-v1-3']);
    // Pods that predate the run are dated by their creationTimestamp, not by when the watch saw them.
    expect(eventsOf(initial, 'pod.start')[0]!.t).toBeLessThan(Date.now() - 3_000_000);
    expect(eventsOf(initial, 'hpa').map((e) => e.data)).toEqual([{ current: 3, desired: 3, cpuPercent: 12, memoryPercent: null }]);
    expect(eventsOf(initial, 'db.role').map((e) => e.data)).toEqual([{ member: 'orders-db-1', role: 'primary' }]);

    // Changes while the run goes on.
    standin.put(COLLECTIONS.pods, pod(ns, 'app-v1-4', { ready: false }));
    await waitFor('pod.start of the new pod', () => eventsOf(timeline(), 'pod.start').some((e) => e.data.pod === 'app-v1-4'));
    standin.put(COLLECTIONS.pods, pod(ns, 'app-v1-4', { ready: true }));
    standin.put(COLLECTIONS.hpas, hpa(ns, 3, 6, 140));
    standin.put(COLLECTIONS.deployments, deployment(ns, { replicas: 6, ready: 4, updated: 6 }));
    standin.put(COLLECTIONS.cnpgClusters, cnpgCluster(ns, 'orders-db-1', 'orders-db-2'));
    standin.put(COLLECTIONS.cnpgClusters, cnpgCluster(ns, 'orders-db-2'));
    await waitFor('the second primary', () => eventsOf(timeline(), 'db.role').length === 3);

    const after = timeline();
    expect(eventsOf(after, 'pod.ready').some((e) => e.data.pod === 'app-v1-4')).toBe(true);
    expect(eventsOf(after, 'hpa').at(-1)?.data).toEqual({ current: 3, desired: 6, cpuPercent: 140, memoryPercent: null });
    expect(eventsOf(after, 'replicas').at(-1)?.data).toEqual({ desired: 6, ready: 4 });
    expect(eventsOf(after, 'db.role').map((e) => e.data)).toEqual([
      { member: 'orders-db-1', role: 'primary' },
      { member: 'orders-db-1', role: 'down' },
      { member: 'orders-db-2', role: 'primary' },
    ]);
  });

  it('reconnects watches the server ends, without repeating events for what it already saw', async () => {
    const ns = seed();
    const { cluster, timeline } = makeCluster(ns, { cnpgCluster: '' });
    await cluster.up();
    await waitFor('initial pods', () => eventsOf(timeline(), 'pod.ready').length === 3);
    const opened = cluster.watchConnections();

    standin.closeWatches();
    await waitFor('watches reopened', () => cluster.watchConnections() >= opened + 3 && standin.watcherCount(COLLECTIONS.pods) === 1);
    standin.put(COLLECTIONS.pods, pod(ns, 'after-reconnect', { ready: true }));
    await waitFor('event after reconnect', () => eventsOf(timeline(), 'pod.ready').some((e) => e.data.pod === 'after-reconnect'));

    expect(eventsOf(timeline(), 'pod.start')).toHaveLength(4);
    expect(eventsOf(timeline(), 'replicas')).toHaveLength(1);
  });

  it('reports a pod deleted by someone else as stopped with its reason', async () => {
    const ns = seed();
    const { cluster, timeline } = makeCluster(ns);
    await cluster.up();
    await waitFor('initial pods', () => eventsOf(timeline(), 'pod.ready').length === 3);
    const gone = { ...pod(ns, 'app-v1-3', { ready: true }), metadata: { ...pod(ns, 'app-v1-3').metadata, deletionTimestamp: new Date().toISOString() } };
    standin.put(COLLECTIONS.pods, gone);
    await waitFor('pod.stop', () => eventsOf(timeline(), 'pod.stop').length === 1);
    expect(eventsOf(timeline(), 'pod.stop')[0]!.data).toEqual({ pod: 'app-v1-3', reason: 'scale-down', exitCode: null });
  });
});

describe('actions in a namespace that opted in', () => {
  it('rolls out a new version by patching image and APP_VERSION, and follows it to completion', async () => {
    const ns = seed({ 'slo-harness.io/disruptions': 'allowed' });
    const { cluster, timeline } = makeCluster(ns);
    await cluster.up();
    const done = cluster.rollout('v2');

    const patch = await waitFor('the deployment PATCH', () => standin.requestsMatching('PATCH', new RegExp(`/namespaces/${ns}/deployments/slo-reference-app$`))[0]);
    expect(patch.contentType).toBe('application/strategic-merge-patch+json');
    expect(patch.body).toEqual({ spec: { template: { spec: { containers: [
      { name: 'app', image: 'registry.local:5000/slo-reference-app:v2', env: [{ name: 'APP_VERSION', value: 'v2' }] },
    ] } } } });
    const patched = standin.get(COLLECTIONS.deployments, ns, 'slo-reference-app') as ReturnType<typeof deployment>;
    expect(JSON.stringify(patched)).toContain('"value":"v2"');
    expect(JSON.stringify(patched)).toContain('"name":"PORT"'); // strategic merge kept the other env vars

    // Play the deployment controller: one new pod at a time, then done.
    const generation = patched.metadata.generation as number;
    for (const updated of [1, 2]) {
      standin.put(COLLECTIONS.deployments, { ...deployment(ns, { version: 'v2', updated, generation }), status: { observedGeneration: generation, replicas: 4, updatedReplicas: updated, readyReplicas: 3, availableReplicas: 3 } });
      await waitFor(`progress ${updated}`, () => eventsOf(timeline(), 'rollout').some((e) => e.data.state === 'progress' && e.data.updated === updated));
    }
    standin.put(COLLECTIONS.deployments, deployment(ns, { version: 'v2', generation }));
    // Complete only once the pods that ran before are gone, not when the controller reports done.
    await sleep(1200);
    expect(eventsOf(timeline(), 'rollout').map((e) => e.data.state)).not.toContain('complete');
    for (const i of [1, 2, 3]) standin.remove(COLLECTIONS.pods, ns, `app-v1-${i}`);
    await done;

    const records = timeline();
    expect(eventsOf(records, 'rollout').map((e) => [e.data.state, e.data.updated])).toEqual([['start', 0], ['progress', 1], ['progress', 2], ['complete', 3]]);
    expect(eventsOf(records, 'rollout')[0]!.data).toMatchObject({ from: 'v1', to: 'v2', total: 3 });
    // The harness records actions; the adapter only what it observes.
    expect(eventsOf(records, 'action.end')).toEqual([]);
  });

  it('fails CloudNativePG over like `kubectl cnpg promote`: targetPrimary through the status subresource', async () => {
    const ns = seed({ 'slo-harness.io/disruptions': 'allowed' });
    for (const i of [1, 2, 3]) standin.put(COLLECTIONS.pods, { ...pod(ns, `orders-db-${i}`), metadata: { name: `orders-db-${i}`, namespace: ns, labels: { 'cnpg.io/cluster': 'orders-db' } } });
    const { cluster, timeline } = makeCluster(ns);
    await cluster.up();
    expect(cluster.failover).toBeTypeOf('function');
    const done = cluster.failover!();

    const patch = await waitFor('the status PATCH', () => standin.requestsMatching('PATCH', new RegExp(`/namespaces/${ns}/clusters/orders-db/status$`))[0]);
    expect(patch.contentType).toBe('application/merge-patch+json');
    expect(patch.body).toMatchObject({
      metadata: { resourceVersion: expect.any(String) },
      status: { targetPrimary: 'orders-db-2', phase: 'Switchover in progress', phaseReason: 'Switching over to orders-db-2' },
    });
    expect(standin.requestsMatching('GET', new RegExp(`/namespaces/${ns}/pods/orders-db-2$`))).toHaveLength(1);

    // Play the operator: it promotes the target.
    standin.put(COLLECTIONS.cnpgClusters, cnpgCluster(ns, 'orders-db-2'));
    await done;
    await waitFor('db.role events', () => eventsOf(timeline(), 'db.role').length === 3);
    expect(eventsOf(timeline(), 'db.role').map((e) => `${e.data.member}:${e.data.role}`)).toEqual(['orders-db-1:primary', 'orders-db-1:down', 'orders-db-2:primary']);
    expect(eventsOf(timeline(), 'action.end')).toEqual([]);

    // The old primary restarts as a standby: gone from the healthy instances, then back.
    const withHealthy = (healthy: string[]) => {
      const c = cnpgCluster(ns, 'orders-db-2');
      return { ...c, status: { ...(c.status as object), instancesStatus: { healthy } } };
    };
    standin.put(COLLECTIONS.cnpgClusters, withHealthy(['orders-db-2', 'orders-db-3']));
    await sleep(300);
    expect(eventsOf(timeline(), 'db.role')).toHaveLength(3);
    standin.put(COLLECTIONS.cnpgClusters, withHealthy(['orders-db-1', 'orders-db-2', 'orders-db-3']));
    await waitFor('the rejoin', () => eventsOf(timeline(), 'db.role').length === 4);
    expect(eventsOf(timeline(), 'db.role').at(-1)!.data).toEqual({ member: 'orders-db-1', role: 'replica' });
  });

  it('runs the user failover command for databases outside the cluster, and reports its failure', async () => {
    const ns = seed({ 'slo-harness.io/disruptions': 'allowed' });
    const marker = join(scratch, `failover-${ns}`);
    const ok = makeCluster(ns, { cnpgCluster: '', failoverCommand: `echo failed-over > '${marker}'` });
    await ok.cluster.failover!();
    expect(readFileSync(marker, 'utf8').trim()).toBe('failed-over');

    const bad = makeCluster(ns, { cnpgCluster: '', failoverCommand: 'echo "instance not found" >&2; exit 4' });
    await expect(bad.cluster.failover!()).rejects.toMatchObject({ code: 'SLO_ERR_ENV_PROCESS_FAILED', message: expect.stringContaining('instance not found') });
  });

  it('has no failover at all when there is neither a CNPG cluster nor a command', async () => {
    const ns = seed({ 'slo-harness.io/disruptions': 'allowed' });
    const { cluster } = makeCluster(ns, { cnpgCluster: '' });
    expect(cluster.failover).toBeUndefined();
    await expect(cluster.preflight(['failover'])).rejects.toMatchObject({ code: 'SLO_ERR_ACTION_UNSUPPORTED' });
  });
});

describe('API failures become SloErrors', () => {
  it('records a refused pod deletion as a failed action', async () => {
    const ns = seed({ 'slo-harness.io/disruptions': 'allowed' });
    standin.fail('DELETE', /\/pods\//, 403);
    const { cluster } = makeCluster(ns);
    await expect(cluster.killPod('app-v1-2')).rejects.toMatchObject({ code: 'SLO_ERR_KUBE_API', message: expect.stringContaining('DELETE pod') });
  });

  it('says when the API server cannot be reached at all', async () => {
    const ns = seed();
    const settings = parseKubeSettings({ namespace: ns, serviceUrl: 'http://x.test' });
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'dead', server: 'http://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'dead', cluster: 'dead', user: 'u' }], currentContext: 'dead' });
    const file = join(scratch, 'dead.jsonl');
    const cluster = new KubeCluster({ runDir: scratch, timeline: new TimelineWriter(file), signal: new AbortController().signal, log: () => {} }, settings, kc);
    await expect(cluster.up()).rejects.toMatchObject({ code: 'SLO_ERR_KUBE_API', message: expect.stringContaining('no response'), hint: expect.stringContaining('reachable') });
  });
});

describe('createKubeCluster', () => {
  function kubeconfigFile(): string {
    const file = join(scratch, 'kubeconfig.yaml');
    writeFileSync(file, kubeconfigYaml(standin.url, { contexts: ['standin', 'other'], current: 'other' }));
    return file;
  }

  it('loads the kubeconfig file and context from the settings', async () => {
    const ns = seed();
    const file = join(scratch, 'factory.jsonl');
    const ctx: ClusterContext = { runDir: scratch, timeline: new TimelineWriter(file), signal: new AbortController().signal, log: () => {} };
    const cluster = createKubeCluster(ctx, { settings: { kubeconfig: kubeconfigFile(), context: 'standin', namespace: ns, serviceUrl: 'http://orders.test' } });
    clusters.push(cluster as KubeCluster);
    await expect(cluster.up()).resolves.toEqual({ baseUrl: 'http://orders.test' });
  });

  it('rejects missing serviceUrl and unknown contexts as bad input', () => {
    const ctx: ClusterContext = { runDir: scratch, timeline: new TimelineWriter(join(scratch, 'x.jsonl')), signal: new AbortController().signal, log: () => {} };
    expect(() => createKubeCluster(ctx, { settings: { kubeconfig: kubeconfigFile() } })).toThrow(expect.objectContaining({ code: 'SLO_ERR_CLI_USAGE', exitCode: 2 }));
    expect(() => createKubeCluster(ctx, { settings: { kubeconfig: kubeconfigFile(), context: 'nope', serviceUrl: 'http://x.test' } }))
      .toThrow(expect.objectContaining({ code: 'SLO_ERR_CLI_USAGE', message: 'kube context nope is not in the kubeconfig' }));
    expect(existsSync(join(scratch, 'x.jsonl'))).toBe(false);
  });
});
