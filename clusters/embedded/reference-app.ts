// The reference service on the embedded cluster, deployed the way a user deploys it: its image imported
// into containerd, its kustomize overlay (reference-app/k8s/overlays/embedded) rendered by kubectl's own
// kustomize and applied, then `kubectl rollout status`. The harness adds only what a user's pipeline would
// add: the database Secret, the version and extra environment (telemetry) of this run.
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { errors } from '../../contract/errors.ts';
import { waitFor } from '../wait.ts';
import { kubectl } from './addons.ts';
import { REFERENCE_APP_DIR, REFERENCE_IMAGE_REPOSITORY, REFERENCE_IMAGE_TAG, referenceAppImage } from './app-image.ts';
import { ctr } from './containerd.ts';
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
/** The Secret the base Deployment reads DATABASE_URL from (CloudNativePG's name for it). */
const DATABASE_SECRET = 'orders-db-app';

export interface ReferenceAppInput {
  /** postgres:// URL the pods reach (the node's address, not 127.0.0.1). */
  databaseUrl: string;
  /** Version the service starts at: the image tag and APP_VERSION. */
  version: string;
  /** Extra environment for every replica (e.g. OTEL_*). */
  env?: Record<string, string>;
  replicas?: number;
  log: (line: string) => void;
}

/** Makes `<repository>:<version>` point at the built image, as `docker tag` would. */
export async function tagReferenceImage(layout: Layout, version: string): Promise<string> {
  const ref = `${REFERENCE_IMAGE_REPOSITORY}:${version}`;
  if (version === REFERENCE_IMAGE_TAG) return ref;
  const tagged = await ctr(layout, ['images', 'tag', '--force', `${REFERENCE_IMAGE_REPOSITORY}:${REFERENCE_IMAGE_TAG}`, ref]);
  if (tagged.exitCode !== 0) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`ctr images tag ${ref} failed: ${(tagged.all ?? '').trim()}`);
  return ref;
}

interface Container { name: string; image?: string; env?: { name: string; value?: string }[] }
interface KubeObject { kind: string; metadata: { name: string }; spec?: { replicas?: number; template?: { spec?: { containers?: Container[] } } } }

/** The rendered overlay with this run's version, environment and replicas (pure). */
export function customise(objects: KubeObject[], input: Pick<ReferenceAppInput, 'version' | 'env' | 'replicas'>): KubeObject[] {
  return objects.map((object) => {
    if (object.kind !== 'Deployment' || object.metadata.name !== APP_DEPLOYMENT) return object;
    const containers = (object.spec?.template?.spec?.containers ?? []).map((c) => {
      if (c.name !== APP_CONTAINER) return c;
      const extra = { APP_VERSION: input.version, ...input.env };
      const env = [...(c.env ?? []).filter((e) => !(e.name in extra)), ...Object.entries(extra).map(([name, value]) => ({ name, value }))];
      return { ...c, image: `${REFERENCE_IMAGE_REPOSITORY}:${input.version}`, env };
    });
    return {
      ...object,
      spec: {
        ...object.spec,
        ...(input.replicas ? { replicas: input.replicas } : {}),
        template: { ...object.spec?.template, spec: { ...object.spec?.template?.spec, containers } },
      },
    };
  });
}

export function secretObject(databaseUrl: string): object {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: DATABASE_SECRET, namespace: APP_NAMESPACE },
    stringData: { uri: databaseUrl },
  };
}

export function referenceAppStep(layout: Layout, input: ReferenceAppInput): Step {
  return {
    name: 'reference-app',
    async up(ctx) {
      const image = await referenceAppImage({ log: input.log });
      await importImage(layout, image.archive, image.ref);
      await tagReferenceImage(layout, input.version);
      const rendered = await kubectl(layout, ['kustomize', OVERLAY]);
      if (rendered.exitCode !== 0) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`kubectl kustomize ${OVERLAY} failed: ${(rendered.all ?? '').trim()}`);
      const objects = parseAllDocuments(rendered.stdout).map((d) => d.toJS() as KubeObject).filter(Boolean);
      const namespaceFirst = [...objects.filter((o) => o.kind === 'Namespace'), secretObject(input.databaseUrl), ...customise(objects.filter((o) => o.kind !== 'Namespace'), input)];
      for (const object of namespaceFirst) {
        // One object at a time, namespace first: a List would race the namespace's creation.
        const applied = await kubectl(layout, ['apply', '-f', '-'], JSON.stringify(object));
        if (applied.exitCode !== 0) throw errors.SLO_ERR_KUBE_API(`applying the reference service failed: ${(applied.all ?? '').trim()}`);
      }
      await waitFor(async () => ((await kubectl(layout, ['-n', APP_NAMESPACE, 'rollout', 'status', `deployment/${APP_DEPLOYMENT}`, '--timeout=5s'])).exitCode === 0 ? true : undefined), {
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
