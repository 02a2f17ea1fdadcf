// The pure parts of putting a service on the embedded cluster: the overlay as customised per run, HPA
// compression, the controller-manager's HPA clocks, image names, CRI log lines and ldd output.
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { metricResolutionS } from './addons.ts';
import { parseLdd, REFERENCE_APP_DIR } from './app-image.ts';
import { hpaClockArgs } from './controller-manager.ts';
import { collectPodLogs, criLogText } from './pod-logs.ts';
import { compressHpa, customise, repositoryOf, signalForwarding } from './reference-app.ts';
import { stuckContainer } from './stuck-pods.ts';
import { kubernetesBinDir } from './build.ts';

type Obj = { kind: string; metadata: { name: string }; spec?: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The embedded overlay as kubectl's kustomize renders it, when kubectl is built; else kustomize's. */
async function renderOverlay(): Promise<Obj[]> {
  const overlay = join(REFERENCE_APP_DIR, 'k8s', 'overlays', 'embedded');
  const kubectl = join(kubernetesBinDir(), 'kubectl');
  const rendered = existsSync(kubectl)
    ? await execa(kubectl, ['kustomize', overlay])
    : await execa(join(REFERENCE_APP_DIR, '..', '.tools', 'bin', 'kustomize'), ['build', overlay]);
  return parseAllDocuments(rendered.stdout).map((d) => d.toJS() as Obj);
}

describe('the embedded overlay, customised per run', () => {
  it('--set preStopSleepS changes the preStop sleep, and 0 deploys without the hook', async () => {
    const rendered = await renderOverlay();
    const container = (preStopSleepS: number) => (customise(rendered, { version: 'v1', workload: { kind: 'reference' }, image: 'x', preStopSleepS })
      .find((o) => o.kind === 'Deployment') as Obj).spec.template.spec.containers[0];
    expect(container(12).lifecycle).toEqual({ preStop: { sleep: { seconds: 12 } } });
    expect(container(0).lifecycle).toEqual({});
  });

  it('runs the reference image at the run\'s version, never pulled, on the NodePort, without CNPG', async () => {
    const objects = customise(await renderOverlay(), { version: '1.2.0', env: { OTEL_SERVICE_NAME: 'reference-app' }, workload: { kind: 'reference' }, image: 'localhost/slo-reference-app:1.2.0' });
    expect(objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'HorizontalPodAutoscaler', 'Namespace', 'PodDisruptionBudget', 'Service']);
    const deployment = objects.find((o) => o.kind === 'Deployment') as Obj;
    const app = deployment.spec.template.spec.containers[0];
    expect(app.image).toBe('localhost/slo-reference-app:1.2.0');
    expect(app.imagePullPolicy).toBe('Never');
    expect(app.env).toContainEqual({ name: 'APP_VERSION', value: '1.2.0' });
    expect(app.env).toContainEqual({ name: 'OTEL_SERVICE_NAME', value: 'reference-app' });
    expect(app.env.filter((e: { name: string }) => e.name === 'APP_VERSION')).toHaveLength(1);
    expect(app.env).toContainEqual({ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'orders-db-app', key: 'uri' } } });
    // The base's drain and probes are kept.
    expect(app.lifecycle.preStop.sleep.seconds).toBe(5);
    expect(app.readinessProbe.httpGet.path).toBe('/ready');
    expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    const service = objects.find((o) => o.kind === 'Service') as Obj;
    expect(service.spec).toMatchObject({ type: 'NodePort', ports: [{ nodePort: 30080 }] });
    expect((objects.find((o) => o.kind === 'Namespace') as Obj & { metadata: { labels: Record<string, string> } }).metadata.labels['slo-harness.io/disruptions']).toBe('allowed');
  });

  it('runs a user\'s command in its folder on this machine\'s /usr, as the folder\'s owner', async () => {
    const workload = { kind: 'command' as const, command: 'node server.js', cwd: '/home/me/app', uid: 1001, gid: 1001 };
    const deployment = customise(await renderOverlay(), { version: 'v1', workload, image: 'localhost/slo-host-runner:v1' }).find((o) => o.kind === 'Deployment') as Obj;
    const pod = deployment.spec.template.spec;
    expect(pod.containers[0]).toMatchObject({ image: 'localhost/slo-host-runner:v1', command: ['/bin/sh', '-c', signalForwarding('node server.js')], workingDir: '/home/me/app' });
    expect(pod.containers[0].env).toContainEqual({ name: 'HOST', value: '0.0.0.0' });
    expect(pod.containers[0].volumeMounts).toEqual(expect.arrayContaining([
      { name: 'host-programs-0', mountPath: '/usr', readOnly: true },
      { name: 'app-folder', mountPath: '/home/me/app' },
    ]));
    expect(pod.volumes).toContainEqual({ name: 'app-folder', hostPath: { path: '/home/me/app', type: 'Directory' } });
    expect(pod.securityContext).toMatchObject({ runAsUser: 1001, runAsGroup: 1001, runAsNonRoot: true });
  });
});

describe('compressed profiles compress the HPA the ways Kubernetes allows', () => {
  it('scales the behavior windows of the overlay\'s HPA, at least 1 s each', async () => {
    const hpa = (await renderOverlay()).find((o) => o.kind === 'HorizontalPodAutoscaler') as Obj;
    const quick = compressHpa(hpa, 0.1);
    // 15 s x 0.1 would be 2 s: a scale-up period stays at least a pod's start (SCALE_UP_PERIOD_FLOOR_S).
    expect(quick.spec.behavior.scaleUp.policies.map((p: { periodSeconds: number }) => p.periodSeconds)).toEqual([5]);
    expect(compressHpa(hpa, 0.5).spec.behavior.scaleUp.policies[0].periodSeconds).toBe(8);
    expect(quick.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(18) // 180 s x 0.1;
    expect(quick.spec.behavior.scaleDown.policies[0].periodSeconds).toBe(6);
    expect(compressHpa(hpa, 0.001).spec.behavior.scaleDown.policies[0].periodSeconds).toBe(1);
    // Targets and bounds are what the service asks for, in every profile.
    expect(quick.spec.metrics).toEqual(hpa.spec.metrics);
    expect([quick.spec.minReplicas, quick.spec.maxReplicas]).toEqual([3, 20]);
    expect(compressHpa(hpa, 1)).toBe(hpa);
  });

  it('shortens the controller-manager\'s HPA clocks and metrics-server\'s resolution only when compressed', () => {
    expect(hpaClockArgs({ hpaSyncS: 3, timeScale: 0.1 })).toEqual([
      '--horizontal-pod-autoscaler-sync-period=3s',
      '--horizontal-pod-autoscaler-cpu-initialization-period=30s',
      '--horizontal-pod-autoscaler-initial-readiness-delay=3s',
      '--horizontal-pod-autoscaler-downscale-stabilization=30s',
    ]);
    expect(hpaClockArgs({ hpaSyncS: 15, timeScale: 1 })).toEqual(['--horizontal-pod-autoscaler-sync-period=15s']);
    expect([metricResolutionS(0.1), metricResolutionS(1), metricResolutionS(undefined)]).toEqual([10, 15, 15]);
  });
});

describe('a service that cannot start', () => {
  it('is told apart from one still starting', () => {
    const pod = (name: string, reason?: string) => ({ metadata: { name }, status: { containerStatuses: [{ name: 'app', state: reason ? { waiting: { reason, message: 'back-off 10s' } } : { running: {} } }] } });
    expect(stuckContainer([pod('a'), pod('b', 'ContainerCreating')])).toBeUndefined();
    expect(stuckContainer([pod('a'), pod('b', 'CrashLoopBackOff')])).toEqual({ pod: 'b', reason: 'CrashLoopBackOff', message: 'back-off 10s' });
    expect(stuckContainer([pod('c', 'ErrImageNeverPull')])?.reason).toBe('ErrImageNeverPull');
  });
});

describe('image names', () => {
  it('keeps a registry port and drops tag and digest', () => {
    expect(repositoryOf('localhost/slo-reference-app:dev')).toBe('localhost/slo-reference-app');
    expect(repositoryOf('registry:5000/team/app:1.2@sha256:abc')).toBe('registry:5000/team/app');
    expect(repositoryOf('registry:5000/team/app')).toBe('registry:5000/team/app');
  });
});

describe('pod logs', () => {
  it('turns CRI log lines into the service\'s own lines, joining split ones', () => {
    const cri = [
      '2026-12-04T23:14:16.984Z stdout F {"level":"info","msg":"a"}',
      '2026-12-04T23:14:16.985Z stdout P {"level":"info",',
      '2026-12-04T23:14:16.985Z stdout F "msg":"b"}',
      '2026-12-04T23:14:16.986Z stderr F warning',
      '',
    ].join('\n');
    expect(criLogText(cri)).toBe('{"level":"info","msg":"a"}\n{"level":"info","msg":"b"}\nwarning\n');
  });

  it('collects only the namespace\'s pods, one file per pod, restarts in order', () => {
    const root = mkdtempSync(join(tmpdir(), 'pod-logs-'));
    try {
      const write = (folder: string, file: string, text: string) => {
        mkdirSync(join(root, 'logs', folder, 'app'), { recursive: true });
        writeFileSync(join(root, 'logs', folder, 'app', file), text);
      };
      write('slo-reference_app-1_uid1', '0.log', 't stdout F first\n');
      write('slo-reference_app-1_uid1', '1.log', 't stdout F after restart\n');
      write('kube-system_coredns-1_uid2', '0.log', 't stdout F dns\n');
      expect(collectPodLogs(join(root, 'logs'), 'slo-reference', join(root, 'out'))).toBe(1);
      expect(readFileSync(join(root, 'out', 'app-1.log'), 'utf8')).toBe('first\nafter restart\n');
      expect(existsSync(join(root, 'out', 'coredns-1.log'))).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('ldd', () => {
  it('finds the libraries and the loader a binary needs', () => {
    const output = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f6e)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f6e)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f6e)',
    ].join('\n');
    expect(parseLdd(output)).toEqual(['/lib/x86_64-linux-gnu/libstdc++.so.6', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
  });
});

describe('--app in a pod: the shell hands SIGTERM on to the command', () => {
  it('a command with variable assignments gets SIGTERM and its exit code is the pod\'s', async () => {
    const script = "process.on('SIGTERM', () => { console.log('got SIGTERM', process.env.MARK); process.exit(7); }); console.log('up'); setInterval(() => {}, 1000);";
    const child = execa('/bin/sh', ['-c', signalForwarding(`MARK=x ${process.execPath} -e "${script}"`)], { reject: false });
    await new Promise((resolve) => child.stdout!.once('data', resolve)); // node has its handler
    child.kill('SIGTERM');
    const result = await child;
    expect(result.stdout).toContain('got SIGTERM x');
    expect(result.exitCode).toBe(7);
  });
});
