// The reference service on the embedded cluster, deployed the way a user deploys it: its image imported
// into containerd, its kustomize overlay (reference-app/k8s/overlays/embedded) rendered by kubectl's own
// kustomize and applied, then `kubectl rollout status`. The harness adds only what a user's pipeline would
// add: the database Secret, the version and extra environment (telemetry) of this run.
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { errors } from '../../contract/errors.ts';
import { waitFor } from '../wait.ts';
import { kubectl } from './kubectl.ts';
import { hostRunnerImage, REFERENCE_APP_DIR, referenceAppImage } from './app-image.ts';
import { ctr } from './containerd.ts';
import { throwIfStuck } from './stuck-pods.ts';
import { importImage } from './images.ts';
import type { Layout } from './layout.ts';
import type { Step } from './steps.ts';

export const APP_NAMESPACE = 'slo-reference';
export const APP_DEPLOYMENT = 'slo-reference-app';
export const APP_CONTAINER = 'app';
/** The overlay's NodePort, reached on the host's loopback (kube-proxy's localhost NodePorts). */
export const APP_NODE_PORT = 30080;
export const APP_URL = `http://127.0.0.1:${APP_NODE_PORT}`;
const OVERLAY = join(REFERENCE_APP_DIR, 'k8s', 'overlays', 'embedded');

/**
 * What runs in the Deployment: the reference service (its image built here), a user's command run on
 * this machine's programs (`--app`), or a user's OCI / docker-archive image tarball (`--set image=`).
 */
export type Workload =
  | { kind: 'reference' }
  | { kind: 'command'; command: string; cwd: string; uid: number; gid: number }
  | { kind: 'image'; archive: string };

export interface ReferenceAppInput {
  workload: Workload;
  /** Version the service starts at: the image tag and APP_VERSION. */
  version: string;
  /** Extra environment for every replica (e.g. OTEL_*). */
  env?: Record<string, string>;
  replicas?: number;
  /** A compressed profile's time scale: the HPA's behavior windows shrink with it. */
  timeScale?: number;
  /**
   * The container's preStop sleep in seconds (the overlay's 5 s lets endpoints go before SIGTERM); 0 removes
   * the hook, as for a service deployed without one (then a service that does not drain drops requests).
   */
  preStopSleepS?: number;
  log: (line: string) => void;
}

/** Makes `<repository>:<version>` point at the image `from`, as `docker tag` would; returns the new reference. */
export async function tagImage(layout: Layout, from: string, version: string): Promise<string> {
  const ref = `${repositoryOf(from)}:${version}`;
  if (ref === from) return ref;
  const tagged = await ctr(layout, ['images', 'tag', '--force', from, ref]);
  if (tagged.exitCode !== 0) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`ctr images tag ${ref} failed: ${(tagged.all ?? '').trim()}`);
  return ref;
}

/** `registry/name:tag@digest` -> `registry/name` (a port's colon is not a tag). */
export function repositoryOf(ref: string): string {
  const name = ref.split('@')[0] ?? ref;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

interface Container { name: string; image?: string; env?: { name: string; value?: string }[]; [key: string]: unknown }
interface PodSpec { containers?: Container[]; volumes?: unknown[]; securityContext?: Record<string, unknown> }
interface KubeObject { kind: string; metadata: { name: string }; spec?: { replicas?: number; template?: { spec?: PodSpec } } }

/** Where a user's command finds this machine's programs: Debian's merged /usr, read-only. */
const HOST_PROGRAM_MOUNTS = ['/usr', '/etc/alternatives'];

/**
 * The rendered overlay with this run's image, version, environment and replicas (pure). For a user's
 * command the container runs `/bin/sh -c <command>` in its folder, on this machine's programs, as the
 * user who owns that folder; everything else (probes on /health and /ready, PORT, drain) stays the base's.
 */
/**
 * The shell line a pod runs for `--app`: the user's command as a job of a shell that hands SIGTERM on to it.
 * The shell is PID 1, which ignores signals it has no handler for, so without this a command with variable
 * assignments or several words in it would never see the SIGTERM Kubernetes sends, and would be killed after
 * the grace period instead of shutting down the way it chose to.
 */
export function signalForwarding(command: string): string {
  return [
    `${command} &`,
    'child=$!',
    "trap 'kill -TERM \"$child\" 2>/dev/null' TERM INT",
    'wait "$child"; status=$?',
    'while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done',
    'exit "$status"',
  ].join('\n');
}

export function customise(objects: KubeObject[], input: Pick<ReferenceAppInput, 'version' | 'env' | 'replicas' | 'workload' | 'preStopSleepS'> & { image: string }): KubeObject[] {
  return objects.map((object) => {
    if (object.kind !== 'Deployment' || object.metadata.name !== APP_DEPLOYMENT) return object;
    const podSpec = object.spec?.template?.spec ?? {};
    const workload = input.workload;
    const containers = (podSpec.containers ?? []).map((c) => {
      if (c.name !== APP_CONTAINER) return c;
      // A user's command is told where to listen as on the local target (PORT), and on which address.
      const extra = { APP_VERSION: input.version, ...(workload.kind === 'command' ? { HOST: '0.0.0.0' } : {}), ...input.env };
      const env = [...(c.env ?? []).filter((e) => !(e.name in extra)), ...Object.entries(extra).map(([name, value]) => ({ name, value }))];
      const container: Container = { ...c, image: input.image, env };
      if (input.preStopSleepS !== undefined) {
        const { preStop: _dropped, ...lifecycle } = (c.lifecycle ?? {}) as Record<string, unknown>;
        container.lifecycle = input.preStopSleepS > 0 ? { ...lifecycle, preStop: { sleep: { seconds: input.preStopSleepS } } } : lifecycle;
      }
      if (workload.kind === 'command') {
        container.command = ['/bin/sh', '-c', signalForwarding(workload.command)];
        container.workingDir = workload.cwd;
        container.volumeMounts = [
          ...((c.volumeMounts as unknown[] | undefined) ?? []),
          ...HOST_PROGRAM_MOUNTS.map((path, i) => ({ name: `host-programs-${i}`, mountPath: path, readOnly: true })),
          { name: 'app-folder', mountPath: workload.cwd },
        ];
        container.securityContext = { ...(c.securityContext as object | undefined), runAsNonRoot: workload.uid !== 0, runAsUser: workload.uid, runAsGroup: workload.gid };
      }
      return container;
    });
    const spec: PodSpec = { ...podSpec, containers };
    if (workload.kind === 'command') {
      spec.volumes = [
        ...(podSpec.volumes ?? []),
        ...HOST_PROGRAM_MOUNTS.map((path, i) => ({ name: `host-programs-${i}`, hostPath: { path, type: 'Directory' } })),
        { name: 'app-folder', hostPath: { path: workload.cwd, type: 'Directory' } },
      ];
      spec.securityContext = { ...podSpec.securityContext, runAsNonRoot: workload.uid !== 0, runAsUser: workload.uid, runAsGroup: workload.gid, fsGroup: workload.gid };
    }
    return {
      ...object,
      spec: {
        ...object.spec,
        ...(input.replicas ? { replicas: input.replicas } : {}),
        template: { ...object.spec?.template, spec },
      },
    };
  });
}

/** Imports the workload's image into containerd; returns the reference the Deployment uses. */
async function workloadImage(layout: Layout, workload: Workload, log: (line: string) => void): Promise<string> {
  if (workload.kind === 'image') {
    const imported = await ctr(layout, ['images', 'import', '--all-platforms', workload.archive]);
    const ref = /unpacking (\S+) \(sha256:/.exec(imported.all ?? '')?.[1];
    if (imported.exitCode !== 0 || !ref) {
      throw errors.SLO_ERR_ENV_PROCESS_FAILED(`ctr images import ${workload.archive} failed: ${(imported.all ?? '').trim() || 'no image name in the tarball'}`,
        'pass an OCI or docker-archive tarball with a name, e.g. `docker save -o app.tar myapp:1` or `buildah push myapp oci-archive:app.tar:myapp:1`');
    }
    return ref;
  }
  const image = workload.kind === 'command' ? await hostRunnerImage({ log }) : await referenceAppImage({ log });
  await importImage(layout, image.archive, image.ref);
  return image.ref;
}

interface HpaPolicy { periodSeconds: number; [key: string]: unknown }
interface HpaRules { stabilizationWindowSeconds?: number; policies?: HpaPolicy[]; [key: string]: unknown }
interface HpaObject { kind: string; spec?: { behavior?: { scaleUp?: HpaRules; scaleDown?: HpaRules } } }

/**
 * A scale-up policy's period is never compressed below this: the policy exists to bound how many pods start
 * at once (base/hpa.yaml), and a pod's start does not compress (3-5 s here under load, like the metrics
 * pipeline's ~15 s). Compressed to 3 s, the quick profile's 5 pods per period started 13 pods within 6 s of
 * the spike, which took the CPU of the replicas serving it (bench/RESULTS.md).
 */
export const SCALE_UP_PERIOD_FLOOR_S = 5;

/**
 * The overlay's HPA with its behavior windows (stabilization, policy periods) multiplied by `timeScale`
 * (pure): what a compressed profile compresses in the HPA itself. Kubernetes allows periods of 1 s up.
 */
export function compressHpa<T extends HpaObject>(object: T, timeScale: number | undefined): T {
  const behavior = object.spec?.behavior;
  if (object.kind !== 'HorizontalPodAutoscaler' || !behavior || timeScale === undefined || timeScale >= 1) return object;
  const scale = (seconds: number, floor = 1) => Math.max(Math.min(floor, seconds), Math.round(seconds * timeScale));
  const rules = (r: HpaRules | undefined, periodFloor = 1): HpaRules | undefined => r && {
    ...r,
    ...(r.stabilizationWindowSeconds ? { stabilizationWindowSeconds: scale(r.stabilizationWindowSeconds) } : {}),
    ...(r.policies ? { policies: r.policies.map((p) => ({ ...p, periodSeconds: scale(p.periodSeconds, periodFloor) })) } : {}),
  };
  const scaleUp = rules(behavior.scaleUp, SCALE_UP_PERIOD_FLOOR_S);
  const scaleDown = rules(behavior.scaleDown);
  return { ...object, spec: { ...object.spec, behavior: { ...behavior, ...(scaleUp ? { scaleUp } : {}), ...(scaleDown ? { scaleDown } : {}) } } };
}

export function referenceAppStep(layout: Layout, input: ReferenceAppInput, onImage: (ref: string) => void = () => undefined): Step {
  return {
    name: 'reference-app',
    async up(ctx) {
      const built = await workloadImage(layout, input.workload, input.log);
      const image = await tagImage(layout, built, input.version);
      onImage(image);
      const rendered = await kubectl(layout, ['kustomize', OVERLAY]);
      if (rendered.exitCode !== 0) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`kubectl kustomize ${OVERLAY} failed: ${(rendered.all ?? '').trim()}`);
      const objects = parseAllDocuments(rendered.stdout).map((d) => d.toJS() as KubeObject).filter(Boolean);
      const namespaceFirst = [...objects.filter((o) => o.kind === 'Namespace'), ...customise(objects.filter((o) => o.kind !== 'Namespace'), { ...input, image }).map((o) => compressHpa(o as HpaObject & KubeObject, input.timeScale))];
      for (const object of namespaceFirst) {
        // One object at a time, namespace first: a List would race the namespace's creation.
        const applied = await kubectl(layout, ['apply', '-f', '-'], JSON.stringify(object));
        if (applied.exitCode !== 0) throw errors.SLO_ERR_KUBE_API(`applying the reference service failed: ${(applied.all ?? '').trim()}`);
      }
      await waitFor(async () => {
        if ((await kubectl(layout, ['-n', APP_NAMESPACE, 'rollout', 'status', `deployment/${APP_DEPLOYMENT}`, '--timeout=5s'])).exitCode === 0) return true;
        await throwIfStuck(layout, APP_NAMESPACE);
        return undefined;
      }, {
        what: `deployment ${APP_NAMESPACE}/${APP_DEPLOYMENT} available`, timeoutMs: 300_000, signal: ctx.signal, intervalMs: 1000,
        hint: `kubectl --kubeconfig=${layout.adminKubeconfig} -n ${APP_NAMESPACE} describe pods`,
      });
      // Available pods are not yet a reachable service: kube-proxy writes the NodePort's rules after it
      // sees the endpoints. Up means what the load will hit answers.
      await waitFor(async () => ((await fetch(`${APP_URL}/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0)) === 200 ? true : undefined), {
        what: `the reference service ready on ${APP_URL}`, timeoutMs: 60_000, signal: ctx.signal, intervalMs: 250,
        hint: `kubectl --kubeconfig=${layout.adminKubeconfig} -n ${APP_NAMESPACE} get endpointslices`,
      });
    },
    // Its pods go with the node's teardown (pods.ts), its objects with etcd's data.
    async down() {},
  };
}
