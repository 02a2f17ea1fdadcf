// The embedded cluster as a user meets it: `slo up --cluster embedded` brings up real Kubernetes on this
// machine (built from source by the setup), the reference service deployed from its kustomize overlay with
// its PostgreSQL run by CloudNativePG in the cluster; everything is checked through the API and the node's own tools. Then the
// harness is killed (SIGKILL, no teardown of its own) and `slo down <run>` must leave the host exactly as
// it was. Needs root (skipped otherwise: the non-root answer is tested below); ~2 minutes once built.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { kubernetesBinDir } from '../clusters/embedded/build.ts';
import { STATE_DIR } from '../clusters/embedded/index.ts';
import { APP_NAMESPACE, APP_URL, signalForwarding } from '../clusters/embedded/reference-app.ts';
import { KubeCluster, loadKubeConfig, parseKubeSettings } from '../clusters/kube/index.ts';
import type { ClusterContext } from '../clusters/types.ts';
import { readTimeline, TimelineWriter } from '../harness/timeline-file.ts';
import { eventsOf } from '../contract/timeline.ts';
import { hostState } from '../testing/host-state.ts';
import { standInCommand } from '../testing/stand-in-service.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SLO = join(ROOT, 'bin', 'slo.js');
const root = process.getuid?.() === 0;
const KUBECONFIG = join(STATE_DIR, 'admin.kubeconfig');

const kubectl = (args: string[]) => execa(join(kubernetesBinDir(), 'kubectl'), [`--kubeconfig=${KUBECONFIG}`, ...args], { reject: false });
// The service's pods (the namespace also holds the database's: CloudNativePG's instances).
const APP_PODS = '-l=app.kubernetes.io/name=slo-reference-app';
const crictl = (args: string[]) => execa(join(kubernetesBinDir(), 'crictl'), ['--config', join(STATE_DIR, 'crictl.yaml'), ...args], { reject: false });

function slo(args: string[], env: Record<string, string> = {}): ResultPromise<{ reject: false; cwd: string; env: Record<string, string> }> {
  return execa(process.execPath, [SLO, ...args], { reject: false, cwd: ROOT, env: { CI: '', SLO_DEBUG: '', ...env } });
}

describe.runIf(root)('the embedded cluster: slo up, then a killed harness reaped by slo down', () => {
  const work = mkdtempSync(join(tmpdir(), 'slo-embedded-'));
  let before: Awaited<ReturnType<typeof hostState>>;
  let up: ReturnType<typeof slo>;
  let stderr = '';
  let runDir = '';

  beforeAll(async () => {
    before = await hostState();
    up = slo(['up', '--out', work]); // no --cluster: the default target is this real cluster
    up.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    let exited = false;
    void up.finally(() => { exited = true; });
    const upLine = /up: http:\/\/127\.0\.0\.1:30080; run folder \S+/;
    for (const started = Date.now(); !upLine.test(stderr); await sleep(500)) {
      if (exited || Date.now() - started > 600_000) throw new Error(`slo up did not come up:\n${stderr}`);
    }
    runDir = resolve(ROOT, /run folder (\S+)/.exec(stderr)![1]!);
  }, 660_000);

  afterAll(async () => {
    // Whatever happened above, nothing of the cluster may outlive the test.
    up?.kill('SIGKILL');
    await up?.catch(() => undefined);
    if (runDir) await slo(['down', runDir]);
    rmSync(work, { recursive: true, force: true });
  }, 300_000);

  it('has a Ready node whose kubelet is the v1.34.4 built here', async () => {
    const node = JSON.parse((await kubectl(['get', 'node', 'slo-embedded', '-o', 'json'])).stdout) as {
      status: { conditions: { type: string; status: string }[]; nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string } };
    };
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.status.nodeInfo.kubeletVersion).toBe('v1.34.4');
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/1\.6\./);
  });

  it('runs the reference pods as containers (crictl), the pods the API lists', async () => {
    const pods = JSON.parse((await kubectl(['-n', APP_NAMESPACE, 'get', 'pods', APP_PODS, '-o', 'json'])).stdout) as { items: { metadata: { name: string }; status: { phase: string } }[] };
    expect(pods.items.map((p) => p.status.phase)).toEqual(['Running', 'Running', 'Running']);
    const listed = JSON.parse((await crictl(['ps', '-o', 'json'])).stdout) as { containers: { metadata: { name: string }; state: string; labels: Record<string, string> }[] };
    const app = listed.containers.filter((c) => c.labels['io.kubernetes.pod.namespace'] === APP_NAMESPACE && c.metadata.name === 'app');
    expect(app.map((c) => c.state)).toEqual(['CONTAINER_RUNNING', 'CONTAINER_RUNNING', 'CONTAINER_RUNNING']);
    expect(app.map((c) => c.labels['io.kubernetes.pod.name']).sort()).toEqual(pods.items.map((p) => p.metadata.name).sort());
    // The rest of the namespace is the database: its three instances, each a `postgres` container.
    const others = listed.containers.filter((c) => c.labels['io.kubernetes.pod.namespace'] === APP_NAMESPACE && c.metadata.name !== 'app');
    expect(others.map((c) => c.metadata.name)).toEqual(['postgres', 'postgres', 'postgres']);
  });

  it('answers kubectl top pods from metrics-server', async () => {
    let rows: string[] = [];
    await expect.poll(async () => {
      const top = await kubectl(['-n', APP_NAMESPACE, 'top', 'pods', APP_PODS, '--no-headers']);
      rows = top.exitCode === 0 ? top.stdout.trim().split('\n').filter(Boolean) : [];
      return rows.length;
    }, { timeout: 120_000, interval: 3000 }).toBe(3);
    for (const row of rows) expect(row.trim()).toMatch(/^slo-reference-app-\S+\s+[1-9]\d*m\s+[1-9]\d*Mi$/);
  }, 130_000);

  it('serves through the NodePort from every pod, with the database behind it', async () => {
    const ready = await fetch(`${APP_URL}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, database: 'primary' });
    const instances = new Set<string>();
    for (let i = 0; i < 60; i++) {
      // A new connection each time, so kube-proxy picks a pod each time.
      const response = await fetch(`${APP_URL}/api/items/${i + 1}`, { headers: { connection: 'close' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-app-version')).toBe('1.0.0');
      instances.add(response.headers.get('x-instance-id') ?? '');
    }
    expect(instances.size).toBe(3);
    const order = await fetch(`${APP_URL}/api/orders`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': `embedded-${Date.now()}` }, body: JSON.stringify({ itemId: 7, quantity: 1 }),
    });
    expect(order.status).toBe(201);
  });

  it('resolves the service through cluster DNS', async () => {
    const resolver = new Resolver({ timeout: 2000, tries: 3 });
    resolver.setServers(['10.96.0.10']);
    const service = JSON.parse((await kubectl(['-n', APP_NAMESPACE, 'get', 'service', 'slo-reference-app', '-o', 'json'])).stdout) as { spec: { clusterIP: string } };
    expect(await resolver.resolve4(`slo-reference-app.${APP_NAMESPACE}.svc.cluster.local`)).toEqual([service.spec.clusterIP]);
  });

  // The kube adapter's refusals and API errors, from this real API server (the in-process stand-in keeps
  // only what a real server cannot be made to do: injected 5xx, dropped watches).
  describe('the kube adapter against this real API server', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'slo-kube-real-'));
    let timelineFile = '';
    const adapter = (settings: Record<string, string | number>, kc?: KubeConfig) => {
      const parsed = parseKubeSettings({ kubeconfig: KUBECONFIG, serviceUrl: APP_URL, ...settings });
      timelineFile = join(scratch, `t-${Date.now()}.jsonl`);
      writeFileSync(timelineFile, ''); // the writer creates it at its first event; nothing seen is no event
      const ctx: ClusterContext = { runDir: scratch, timeline: new TimelineWriter(timelineFile), signal: new AbortController().signal, log: () => undefined };
      return new KubeCluster(ctx, parsed, kc ?? loadKubeConfig(parsed));
    };
    const recorded = () => readTimeline(timelineFile);
    const until = async (what: string, done: () => boolean, timeoutMs = 60_000) => {
      for (const started = Date.now(); !done(); await sleep(250)) if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    };

    // Real objects, real controllers: what the stand-in can only play. The harness's namespace opted in.
    it('kills a ready pod (grace 0): recorded as killed, replaced by a new pod of the same ReplicaSet', async () => {
      const cluster = adapter({ namespace: APP_NAMESPACE });
      await cluster.up();
      try {
        await until('the three ready pods', () => eventsOf(recorded(), 'pod.ready').length >= 3);
        const killedAt = Date.now();
        const victim = await cluster.killPod();
        const owner = eventsOf(recorded(), 'pod.ready').find((e) => e.data.pod === victim)?.data.owner;
        expect(owner).toMatch(/^slo-reference-app-[a-z0-9]+$/);
        await until('the pod.stop', () => eventsOf(recorded(), 'pod.stop').some((e) => e.data.pod === victim));
        expect(eventsOf(recorded(), 'pod.stop').find((e) => e.data.pod === victim)?.data.reason).toBe('killed');
        await until('a replacement ready', () => eventsOf(recorded(), 'pod.ready').some((e) => e.t >= killedAt && e.data.pod !== victim));
        const replacement = eventsOf(recorded(), 'pod.ready').find((e) => e.t >= killedAt && e.data.pod !== victim)!;
        expect(replacement.data.owner).toBe(owner);
        expect(eventsOf(recorded(), 'action.start'), 'the harness records actions, never the adapter').toEqual([]);
      } finally {
        await cluster.down();
      }
    });

    it('restarts through the restartedAt annotation: the Deployment controller replaces every pod through a new ReplicaSet', async () => {
      const cluster = adapter({ namespace: APP_NAMESPACE, rolloutTimeoutS: 120 });
      await cluster.up();
      try {
        await until('the three ready pods', () => eventsOf(recorded(), 'pod.ready').length >= 3);
        const before = new Set(eventsOf(recorded(), 'pod.ready').map((e) => e.data.owner));
        await cluster.rollout('1.0.0'); // the version it runs: a restart, as `kubectl rollout restart`
        const records = recorded();
        expect(eventsOf(records, 'rollout').map((e) => e.data.state)).toEqual(expect.arrayContaining(['start', 'complete']));
        expect(eventsOf(records, 'rollout').at(-1)!.data).toMatchObject({ state: 'complete', to: '1.0.0', total: 3 });
        const newSets = eventsOf(records, 'replicaset').filter((e) => !before.has(e.data.name));
        expect(newSets.some((e) => e.data.ready === 3), 'a new ReplicaSet with 3 ready pods').toBe(true);
        expect(eventsOf(records, 'pod.stop').filter((e) => e.data.reason === 'rollout').length).toBeGreaterThanOrEqual(3);
        const template = JSON.parse((await kubectl(['-n', APP_NAMESPACE, 'get', 'deployment', 'slo-reference-app', '-o', 'json'])).stdout) as { spec: { template: { metadata: { annotations?: Record<string, string> } } } };
        expect(Date.parse(template.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'] ?? '')).toBeGreaterThan(Date.now() - 300_000);
      } finally {
        await cluster.down();
      }
    }, 180_000);
    type Failure = { code: string; exitCode: number; message: string; hint: string };
    const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e as Failure);

    it('refuses disruptions in a namespace that did not opt in, and changes nothing there', async () => {
      expect((await kubectl(['create', 'namespace', 'slo-optout'])).exitCode).toBe(0);
      expect((await kubectl(['-n', 'slo-optout', 'create', 'deployment', 'web', `--image=${'localhost/slo-host-runner:v1'}`, '--replicas=0'])).exitCode).toBe(0);
      const cluster = adapter({ namespace: 'slo-optout', deployment: 'web', container: 'web' });
      for (const attempt of [() => cluster.rollout('v2'), () => cluster.killPod('web-1'), () => cluster.preflight(['rollout'])]) {
        const err = await failureOf(attempt());
        expect(err).toMatchObject({ code: 'SLO_ERR_DISRUPTION_NOT_ALLOWED', exitCode: 2 });
        expect(err!.message).toContain('namespace slo-optout lacks label slo-harness.io/disruptions=allowed');
      }
      const web = JSON.parse((await kubectl(['-n', 'slo-optout', 'get', 'deployment', 'web', '-o', 'json'])).stdout) as { metadata: { generation: number } };
      expect(web.metadata.generation).toBe(1);
      // Scaling is not a disruption: it goes through.
      await cluster.scale(0);
    });

    it('turns RBAC\'s real 403 into SLO_ERR_KUBE_API naming the call and the RBAC fix', async () => {
      expect((await kubectl(['-n', 'slo-optout', 'create', 'serviceaccount', 'nobody'])).exitCode).toBe(0);
      const token = (await kubectl(['-n', 'slo-optout', 'create', 'token', 'nobody'])).stdout.trim();
      const admin = new KubeConfig();
      admin.loadFromFile(KUBECONFIG);
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ ...admin.getCurrentCluster()!, name: 'embedded' }],
        users: [{ name: 'nobody', token }],
        contexts: [{ name: 'nobody', cluster: 'embedded', user: 'nobody' }],
        currentContext: 'nobody',
      });
      const err = await failureOf(adapter({ namespace: APP_NAMESPACE }, kc).up());
      expect(err).toMatchObject({ code: 'SLO_ERR_KUBE_API', exitCode: 3 });
      expect(err!.message).toMatch(/failed: 403: .*forbidden.*system:serviceaccount:slo-optout:nobody/);
      expect(err!.hint).toContain('RBAC');
    });

    it('turns a real 404 into SLO_ERR_KUBE_API pointing at the settings', async () => {
      const err = await failureOf(adapter({ namespace: APP_NAMESPACE, deployment: 'no-such-app' }).up());
      expect(err).toMatchObject({ code: 'SLO_ERR_KUBE_API', message: expect.stringMatching(new RegExp(`^GET deployment ${APP_NAMESPACE}/no-such-app failed: 404: .*not found`)) });
      expect(err!.hint).toContain('check the namespace and names');
    });
  });

  it('after the harness is killed, slo down leaves the host as it found it', async () => {
    up.kill('SIGKILL');
    await up;
    // The database's instances (containers of the CloudNativePG pods) outlive a killed harness.
    const instances = await crictl(['ps', '-q', '--name', 'postgres']);
    expect(instances.stdout.trim().split('\n').filter(Boolean).length, instances.stderr).toBe(3);
    const down = await slo(['down', runDir]);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(down.stdout.trim()).toBe(`down: reaped the embedded cluster left in ${runDir}`);
    expect(await hostState()).toEqual(before);
    await expect(fetch(`${APP_URL}/health`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  }, 120_000);
});

describe.runIf(root)('the embedded cluster with a user\'s command (--app)', () => {
  it('runs the command in pods on this machine\'s programs, told its port, reached through the NodePort', async () => {
    const work = mkdtempSync(join(tmpdir(), 'slo-embedded-app-'));
    // One database instance: the stand-in does not use it, and a standby would only lengthen the bring-up.
    const up = slo(['up', '--cluster', 'embedded', '--app', standInCommand(), '--set', 'databaseInstances=1', '--out', work]);
    let stderr = '';
    up.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    try {
      let exited = false;
      void up.finally(() => { exited = true; });
      for (const started = Date.now(); !/up: http:\/\/127\.0\.0\.1:30080/.test(stderr); await sleep(500)) {
        if (exited || Date.now() - started > 600_000) throw new Error(`slo up --app did not come up:\n${stderr}`);
      }
      const pods = JSON.parse((await kubectl(['-n', APP_NAMESPACE, 'get', 'pods', APP_PODS, '-o', 'json'])).stdout) as { items: { spec: { containers: { image: string; command: string[] }[] } }[] };
      expect(pods.items).toHaveLength(3);
      for (const pod of pods.items) {
        expect(pod.spec.containers[0]!.image).toBe('localhost/slo-host-runner:1.0.0');
        expect(pod.spec.containers[0]!.command).toEqual(['/bin/sh', '-c', signalForwarding(standInCommand())]);
      }
      const response = await fetch(`${APP_URL}/ready`);
      expect(response.status).toBe(200);
      // Told its version by the Deployment: nothing but the pods listens behind the NodePort.
      expect(response.headers.get('x-app-version')).toBe('1.0.0');
      // `slo down` of a run whose harness still lives asks that harness to tear down (it must not reap a
      // cluster and database still in use under it).
      const runDir = /run folder (\S+)/.exec(stderr)![1]!;
      const down = await slo(['down', runDir]);
      expect(down.exitCode, down.stderr).toBe(0);
      expect(down.stdout).toMatch(/^down: slo process \d+ tore .* down$/m);
    } finally {
      up.kill('SIGINT');
      await up;
      rmSync(work, { recursive: true, force: true });
    }
    expect((await up).exitCode, stderr).toBe(0);
    expect(stderr).toMatch(/kernel settings restored/);
    await expect(fetch(`${APP_URL}/health`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  }, 700_000);
});

describe('the embedded cluster without root', () => {
  it.runIf(root)('is one line pointing to kind, exit 3, and nothing written', async () => {
    const out = mkdtempSync(join(tmpdir(), 'slo-embedded-nonroot-'));
    try {
      const result = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, SLO, 'up', '--cluster', 'embedded', '--out', join(out, 'runs')], {
        reject: false, cwd: ROOT, env: { CI: '', SLO_DEBUG: '', PATH: process.env.PATH ?? '' },
      });
      expect(result.exitCode, result.stderr).toBe(3);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/^SLO_ERR_ENV_MISSING_TOOL: the embedded cluster must run as root.*--cluster kind/);
      expect(existsSync(join(out, 'runs'))).toBe(false);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
