// The kind adapter without Docker or kind (neither runs on this machine): exact command lines from the pure
// builders, the config against the overlay, and up()/down() driven through FAKE `docker`, `kind` and
// `kubectl` scripts written to a temp PATH, which record their arguments. The cluster side is the
// Kubernetes API stand-in (testing/kube-standin), not a real cluster.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { TimelineWriter } from '../../harness/timeline-file.ts';
import type { ClusterContext } from '../types.ts';
import { renderOverlay } from '../../testing/manifests.ts';
import { startKubeStandin, type KubeStandin } from '../../testing/kube-standin/server.ts';
import { COLLECTIONS, cnpgCluster, deployment, hpa, kubeconfigYaml, namespace, pod } from '../../testing/kube-standin/fixtures.ts';
import {
  CNPG_MANIFEST, KIND_CONFIG, KIND_OVERLAY, KindCluster, METRICS_SERVER_MANIFEST, PROJECT_ROOT, applyOverlay, commandLine,
  dockerBuild, installCnpgOperator, installMetricsServer, kindCreateCluster, kindDeleteCluster, kindLoadImage, waitForApp,
} from './index.ts';

let scratch: string;
let standin: KubeStandin;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'kind-adapter-'));
  standin = await startKubeStandin();
});

afterAll(async () => {
  await standin.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** A PATH holding only the given fake programs. Each appends its name and argv to `calls.log`. */
function fakePath(name: string, programs: Record<string, string>): { path: string; calls: () => string[] } {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  for (const [program, body] of Object.entries(programs)) {
    writeFileSync(join(dir, program), `#!/bin/sh\necho "${program} $*" >> '${log}'\n${body}\n`, { mode: 0o755 });
  }
  return { path: dir, calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

function context(): ClusterContext & { logs: string[] } {
  const logs: string[] = [];
  const file = join(scratch, `timeline-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(file, '');
  return { runDir: scratch, timeline: new TimelineWriter(file), signal: new AbortController().signal, log: (l) => logs.push(l), logs };
}

describe('command lines', () => {
  it('creates, loads and deletes the named cluster with the project config', () => {
    expect(commandLine(kindCreateCluster('slo'))).toBe(`kind create cluster --name slo --config ${KIND_CONFIG} --wait 120s`);
    expect(commandLine(kindLoadImage('slo', 'slo-reference-app:dev'))).toBe('kind load docker-image slo-reference-app:dev --name slo');
    expect(commandLine(kindDeleteCluster('slo'))).toBe('kind delete cluster --name slo');
    expect(commandLine(dockerBuild())).toBe(`docker build --tag slo-reference-app:dev ${PROJECT_ROOT}reference-app`);
  });

  it('installs metrics-server with --kubelet-insecure-tls and CNPG server-side, both pinned, on context kind-<name>', () => {
    expect(installMetricsServer('slo').map(commandLine)).toEqual([
      `kubectl --context kind-slo apply -f ${METRICS_SERVER_MANIFEST}`,
      `kubectl --context kind-slo -n kube-system patch deployment metrics-server --type=json -p '[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"}]'`,
      'kubectl --context kind-slo -n kube-system rollout status deployment/metrics-server --timeout=180s',
    ]);
    expect(installCnpgOperator('slo').map(commandLine)[0]).toBe(`kubectl --context kind-slo apply --server-side --force-conflicts -f ${CNPG_MANIFEST}`);
    expect(METRICS_SERVER_MANIFEST).toMatch(/\/v\d+\.\d+\.\d+\//);
    expect(CNPG_MANIFEST).toMatch(/cnpg-\d+\.\d+\.\d+\.yaml$/);
  });

  it('applies the kind overlay and waits for the database and the rollout', () => {
    expect(commandLine(applyOverlay('slo'))).toBe(`kubectl --context kind-slo apply -k ${KIND_OVERLAY}`);
    expect(waitForApp('slo').map(commandLine)).toEqual([
      'kubectl --context kind-slo -n slo-reference wait cluster.postgresql.cnpg.io/orders-db --for=condition=Ready --timeout=600s',
      'kubectl --context kind-slo -n slo-reference rollout status deployment/slo-reference-app --timeout=300s',
    ]);
  });
});

describe('kind-config.yaml', () => {
  it('has one control plane and three workers, and maps the NodePort the kind overlay uses', async () => {
    const config = parseYaml(readFileSync(KIND_CONFIG, 'utf8')) as { nodes: { role: string; extraPortMappings?: { containerPort: number; hostPort: number }[] }[] };
    expect(config.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker', 'worker']);
    const mapping = config.nodes[0]?.extraPortMappings?.[0];
    const service = (await renderOverlay('kind')).find((o) => o.kind === 'Service') as unknown as { spec: { type: string; ports: { nodePort: number }[] } };
    expect(service.spec.type).toBe('NodePort');
    expect(mapping?.containerPort).toBe(service.spec.ports[0]?.nodePort);
    expect(mapping?.hostPort).toBe(30080);
  });
});

describe('missing tools', () => {
  it('fails with exit 3 and one line naming every missing program when PATH has none of them', async () => {
    const empty = fakePath('empty', {});
    const cluster = new KindCluster(context(), {}, { PATH: empty.path });
    await expect(cluster.up()).rejects.toMatchObject({
      code: 'SLO_ERR_ENV_MISSING_TOOL', exitCode: 3, message: 'the kind cluster needs docker, kind, kubectl on PATH',
      hint: expect.stringContaining('install kind'),
    });
    await expect(cluster.down()).resolves.toBeUndefined(); // idempotent after a failed up
  });

  it('names only docker when kind and kubectl exist', async () => {
    const partial = fakePath('no-docker', { kind: 'exit 0', kubectl: 'exit 0' });
    await expect(new KindCluster(context(), {}, { PATH: partial.path }).up()).rejects.toMatchObject({
      code: 'SLO_ERR_ENV_MISSING_TOOL', exitCode: 3, message: 'the kind cluster needs docker on PATH',
    });
  });

  it('tells a docker without a daemon apart from no docker, and creates nothing', async () => {
    const noDaemon = fakePath('no-daemon', {
      docker: 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock" >&2; exit 1',
      kind: 'exit 0', kubectl: 'exit 0',
    });
    await expect(new KindCluster(context(), {}, { PATH: noDaemon.path }).up()).rejects.toMatchObject({
      code: 'SLO_ERR_ENV_MISSING_TOOL', exitCode: 3, message: expect.stringContaining('daemon does not answer: Cannot connect to the Docker daemon'),
    });
    expect(noDaemon.calls()).toEqual(['docker info --format {{.ServerVersion}}']);
  });

  it('reports a failing step with its command line and output tail', async () => {
    const failing = fakePath('create-fails', {
      docker: 'exit 0', kubectl: 'exit 0',
      kind: 'case "$1" in create) echo "ERROR: failed to create cluster: node(s) already exist" >&2; exit 1;; esac; exit 0',
    });
    await expect(new KindCluster(context(), { settings: { name: 'broken' } }, { PATH: failing.path }).up()).rejects.toMatchObject({
      code: 'SLO_ERR_ENV_PROCESS_FAILED', exitCode: 3, message: expect.stringMatching(/^`kind create cluster --name broken .*` exited 1: ERROR: failed to create cluster/),
    });
  });
});

describe('up and down through fake programs and the API stand-in', () => {
  function seedStandin(): string {
    const ns = 'slo-reference';
    standin.put(COLLECTIONS.namespaces, namespace(ns, { 'slo-harness.io/disruptions': 'allowed' }));
    standin.put(COLLECTIONS.deployments, deployment(ns, { version: 'dev' }));
    for (const i of [1, 2, 3]) standin.put(COLLECTIONS.pods, pod(ns, `app-${i}`, { ready: true, version: 'dev' }));
    standin.put(COLLECTIONS.hpas, hpa(ns, 3, 3, 5));
    standin.put(COLLECTIONS.cnpgClusters, cnpgCluster(ns, 'orders-db-1'));
    const kubeconfig = join(scratch, 'kind-kubeconfig.yaml');
    writeFileSync(kubeconfig, kubeconfigYaml(standin.url, { cluster: 'kind-t1', user: 'kind-t1' }));
    return kubeconfig;
  }

  it('runs every step in order, hands over to the kube adapter, and deletes the cluster on down', async () => {
    const kubeconfig = seedStandin();
    const fakes = fakePath('happy', { docker: 'exit 0', kind: '[ "$1" = get ] && echo other; exit 0', kubectl: 'exit 0' });
    const cluster = new KindCluster(context(), { settings: { name: 't1' } }, { PATH: fakes.path, KUBECONFIG: kubeconfig });
    await expect(cluster.up()).resolves.toEqual({ baseUrl: 'http://127.0.0.1:30080' });
    await cluster.preflight(['rollout', 'kill', 'failover']); // the kind namespace opted in
    await cluster.down();

    const lines = [
      'docker info --format {{.ServerVersion}}',
      'kind get clusters',
      `kind create cluster --name t1 --config ${KIND_CONFIG} --wait 120s`,
      commandLine(dockerBuild()),
      'kind load docker-image slo-reference-app:dev --name t1',
      ...installMetricsServer('t1').map(commandLine),
      ...installCnpgOperator('t1').map(commandLine),
      commandLine(applyOverlay('t1')),
      ...waitForApp('t1').map(commandLine),
      'kind delete cluster --name t1',
    ];
    // The fakes log "$*", which drops the quoting commandLine adds.
    expect(fakes.calls()).toEqual(lines.map((l) => l.replace(/'/g, '')));
  });

  it('reuses an existing cluster of the same name and keeps it when asked', async () => {
    const kubeconfig = seedStandin();
    const fakes = fakePath('reuse', { docker: 'exit 0', kind: '[ "$1" = get ] && printf "t1\\nother\\n"; exit 0', kubectl: 'exit 0' });
    const cluster = new KindCluster(context(), { settings: { name: 't1', keep: true } }, { PATH: fakes.path, KUBECONFIG: kubeconfig });
    await cluster.up();
    await cluster.down();
    expect(fakes.calls().some((c) => c.startsWith('kind create'))).toBe(false);
    expect(fakes.calls().some((c) => c.startsWith('kind delete'))).toBe(false);
  });
});
