// CloudNativePG on the embedded cluster (its only database): the operator v1.30.0 built here from its
// published module (binaries.ts, build/cnpg), its image packed without Docker and imported under the exact
// name its release manifest uses, the operator installed from that manifest (releases/cnpg-1.30.0.yaml,
// shipped in the module) by server-side apply, local persistent volumes for the instances, and the base's
// `Cluster` `orders-db` from the `embedded-cnpg` overlay with the operand image built here
// (postgres-image.ts). The reference service then reads the `orders-db-app` Secret the operator writes.
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parseAllDocuments, stringify } from 'yaml';
import { errors, isSloError } from '../../contract/errors.ts';
import { waitFor } from '../wait.ts';
import { REFERENCE_APP_DIR } from './app-image.ts';
import { parseModuleInfo } from './binaries.ts';
import { BUILD_DIR } from './build.ts';
import { importImage, packImage, runtimeConfig } from './images.ts';
import { kubectl } from './kubectl.ts';
import type { Layout } from './layout.ts';
import { POSTGRES_UID, postgresImage } from './postgres-image.ts';
import type { Step } from './steps.ts';
import { throwIfStuck } from './stuck-pods.ts';

const IMAGES_DIR = fileURLToPath(new URL('../../.tools/images/', import.meta.url));
export const CNPG_MODULE = 'github.com/cloudnative-pg/cloudnative-pg';
export const CNPG_NAMESPACE = 'cnpg-system';
export const CNPG_DEPLOYMENT = 'cnpg-controller-manager';
/** The base's Cluster (reference-app/k8s/base/postgres-cluster.yaml). */
export const CNPG_CLUSTER = 'orders-db';
export const CNPG_OVERLAY = join(REFERENCE_APP_DIR, 'k8s', 'overlays', 'embedded-cnpg');
/** The overlay's storage class: local volumes, no provisioner (the harness makes the volumes). */
export const STORAGE_CLASS = 'slo-local';
/**
 * Volumes made: one per instance, and two spare for an instance the operator recreates on a new PVC (a
 * released local volume is not reused: Retain).
 */
const VOLUMES = 5;

interface KubeObject { apiVersion?: string; kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown>; [key: string]: unknown }

export interface CnpgRelease {
  version: string;
  /** The release manifest in the module cache. */
  manifest: string;
  /** The module's folder (LICENSE, for the image). */
  moduleDir: string;
}

/** The module's version (build/cnpg/go.mod) and its release manifest, from the module cache (downloaded if need be). */
export async function cnpgRelease(): Promise<CnpgRelease> {
  const dir = join(BUILD_DIR, 'cnpg');
  const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' };
  const listed = await execa('go', ['mod', 'download', '-json', CNPG_MODULE], { cwd: dir, env, reject: false, all: true });
  const info = listed.exitCode === 0 ? parseModuleInfo(listed.stdout) : undefined;
  const version = info?.version.replace(/^v/, '');
  const manifest = info?.dir && version ? join(info.dir, 'releases', `cnpg-${version}.yaml`) : undefined;
  if (!info?.dir || !version || !manifest || !existsSync(manifest)) {
    throw errors.SLO_ERR_ENV_INSTALL_FAILED(`cannot find CloudNativePG's release manifest in ${CNPG_MODULE}: ${(listed.all ?? '').trim().split('\n').slice(-2).join(' | ')}`,
      `cd ${dir} && go mod download -json ${CNPG_MODULE}`);
  }
  return { version, manifest, moduleDir: info.dir };
}

/**
 * The release manifest's objects as installed here (pure): the operator's Deployment never pulls (its image
 * is imported, and nothing can be pulled on this machine: `Always` would fail every start). Returns the
 * objects and the image the manifest names (the operator also hands it to the bootstrap init container
 * through OPERATOR_IMAGE_NAME, so it must be exactly that name).
 */
export function operatorObjects(manifestText: string): { objects: KubeObject[]; image: string } {
  const objects = parseAllDocuments(manifestText).map((d) => d.toJS() as KubeObject | null).filter((o): o is KubeObject => Boolean(o?.kind));
  let image: string | undefined;
  for (const object of objects) {
    if (object.kind !== 'Deployment' || object.metadata.name !== CNPG_DEPLOYMENT) continue;
    const containers = ((object.spec?.template as { spec?: { containers?: { name: string; image?: string; imagePullPolicy?: string }[] } } | undefined)?.spec?.containers) ?? [];
    for (const container of containers) {
      if (container.name !== 'manager') continue;
      image = container.image;
      container.imagePullPolicy = 'Never';
    }
  }
  if (!image) throw errors.SLO_ERR_ENV_INSTALL_FAILED(`the CloudNativePG release manifest has no ${CNPG_DEPLOYMENT} Deployment with a manager container`);
  return { objects, image };
}

/**
 * The operator's image as its Dockerfile makes it, on no base image (the binary is static): the manager at
 * /operator/manager_amd64, /manager linking to it (the entrypoint, and the file `manager bootstrap` copies
 * into PostgreSQL pods: it copies its own name relative to the working folder /), the licenses, UID 65532.
 */
export async function operatorImage(binary: string, release: CnpgRelease, ref: string, cacheDir = IMAGES_DIR): Promise<string> {
  const s = statSync(binary);
  const key = createHash('sha256').update(`${ref} ${s.size} ${s.mtimeMs}`).digest('hex').slice(0, 16);
  const archive = join(cacheDir, `cnpg-operator-${key}.tar`);
  if (existsSync(archive)) return archive;
  const rootfs = join(cacheDir, 'cnpg-operator.rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  for (const dir of ['operator', 'licenses', 'etc', 'tmp', 'controller']) mkdirSync(join(rootfs, dir), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  copyFileSync(binary, join(rootfs, 'operator/manager_amd64'));
  chmodSync(join(rootfs, 'operator/manager_amd64'), 0o755);
  symlinkSync('operator/manager_amd64', join(rootfs, 'manager'));
  copyFileSync(join(release.moduleDir, 'LICENSE'), join(rootfs, 'licenses/LICENSE'));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnonroot:x:65532:\n');
  mkdirSync(cacheDir, { recursive: true });
  for (const old of readdirSync(cacheDir).filter((f) => /^cnpg-operator-[0-9a-f]+\.tar$/.test(f))) rmSync(join(cacheDir, old));
  await packImage(rootfs, ref, (digest) => runtimeConfig({ Entrypoint: ['/manager'], WorkingDir: '/', User: '65532:65532', Env: ['PATH=/'] }, digest, `clusters/embedded/cnpg.ts: CloudNativePG ${release.version} manager`), `${archive}.partial`);
  renameSync(`${archive}.partial`, archive);
  rmSync(rootfs, { recursive: true, force: true });
  return archive;
}

/** A StorageClass with no provisioner and the local PVs under the state folder, pinned to the node (pure). */
export function storageObjects(layout: Layout, volumesDir: string, count = VOLUMES): KubeObject[] {
  const storageClass: KubeObject = {
    apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: STORAGE_CLASS },
    provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Retain',
  };
  const volumes = Array.from({ length: count }, (_, i): KubeObject => ({
    apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: `slo-local-${i}` },
    spec: {
      capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: STORAGE_CLASS, volumeMode: 'Filesystem',
      local: { path: join(volumesDir, `slo-local-${i}`) },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [layout.nodeName] }] }] } },
    },
  }));
  return [storageClass, ...volumes];
}

/**
 * The overlay's Cluster (and its Namespace) with the operand image built here and, when asked, another number
 * of instances (pure). A single instance drops synchronous replication: with no standby to confirm a commit,
 * `dataDurability: required` would hold every write.
 */
export function clusterObjects(rendered: readonly KubeObject[], imageName: string, instances?: number): KubeObject[] {
  const namespace = rendered.filter((o) => o.kind === 'Namespace');
  const clusters = rendered.filter((o) => o.kind === 'Cluster' && o.metadata.name === CNPG_CLUSTER).map((o) => {
    const spec: Record<string, unknown> = { ...o.spec, imageName, ...(instances !== undefined ? { instances } : {}) };
    if (instances === 1 && spec.postgresql && typeof spec.postgresql === 'object') {
      const { synchronous: _synchronous, ...postgresql } = spec.postgresql as Record<string, unknown>;
      spec.postgresql = postgresql;
    }
    return { ...o, spec };
  });
  if (clusters.length !== 1) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`the ${CNPG_OVERLAY} overlay has no CloudNativePG Cluster ${CNPG_CLUSTER}`);
  return [...namespace, ...clusters];
}

interface ClusterStatus { instances?: number; readyInstances?: number; phase?: string; currentPrimary?: string }

/** Healthy as `kubectl cnpg status` says it: every instance ready and the phase "Cluster in healthy state". */
export function clusterHealthy(status: ClusterStatus | undefined, instances: number): boolean {
  return status?.readyInstances === instances && status.phase === 'Cluster in healthy state' && Boolean(status.currentPrimary);
}

async function apply(layout: Layout, objects: readonly object[], what: string, serverSide = false): Promise<void> {
  const text = objects.map((o) => stringify(o)).join('---\n');
  const applied = await kubectl(layout, ['apply', ...(serverSide ? ['--server-side', '--field-manager=slo-harness'] : []), '-f', '-'], text);
  if (applied.exitCode !== 0) throw errors.SLO_ERR_KUBE_API(`applying ${what} failed: ${(applied.all ?? '').trim().split('\n').slice(-3).join(' | ')}`);
}

export interface CnpgStepInput {
  /** The manager built from source (binaries.ts `cnpg-manager`). */
  managerBinary: string;
  log: (line: string) => void;
  /** PostgreSQL instances (default: the overlay's, i.e. the base's 3). */
  instances?: number;
  /** Called with the operator's version and the operand image once installed (provenance). */
  onInstalled?: (version: string, operandImage: string) => void;
}

/**
 * The step: images, operator, storage, Cluster; up when the Cluster is healthy and its app Secret exists.
 * Its teardown is the cluster's: pods go with the node, objects with etcd, the volumes with the state folder.
 */
export function cnpgStep(layout: Layout, input: CnpgStepInput): Step {
  const volumesDir = join(layout.stateDir, 'volumes');
  return {
    name: 'cloudnative-pg',
    async up(ctx) {
      const started = Date.now();
      const release = await cnpgRelease();
      const { objects, image } = operatorObjects(readFileSync(release.manifest, 'utf8'));
      await importImage(layout, await operatorImage(input.managerBinary, release, image), image);
      const operand = await postgresImage({ log: input.log });
      await importImage(layout, operand.archive, operand.ref);
      // The manifest is ~1.2 MB of CRDs: over the 256 KiB last-applied annotation a client-side apply writes.
      await apply(layout, objects, `CloudNativePG ${release.version} (${release.manifest})`, true);

      mkdirSync(volumesDir, { recursive: true });
      for (let i = 0; i < VOLUMES; i += 1) {
        const dir = join(volumesDir, `slo-local-${i}`);
        mkdirSync(dir, { recursive: true });
        chownSync(dir, POSTGRES_UID, POSTGRES_UID);
        chmodSync(dir, 0o700);
      }
      await apply(layout, storageObjects(layout, volumesDir), 'the local volumes');

      await waitFor(async () => {
        if ((await kubectl(layout, ['-n', CNPG_NAMESPACE, 'rollout', 'status', `deployment/${CNPG_DEPLOYMENT}`, '--timeout=5s'])).exitCode === 0) return true;
        await throwIfStuck(layout, CNPG_NAMESPACE);
        return undefined;
      }, {
        what: `the CloudNativePG operator (${CNPG_NAMESPACE}/${CNPG_DEPLOYMENT}) available`, timeoutMs: 180_000, signal: ctx.signal, intervalMs: 1000,
        hint: `kubectl --kubeconfig=${layout.adminKubeconfig} -n ${CNPG_NAMESPACE} logs deployment/${CNPG_DEPLOYMENT}`,
      });
      input.log(`embedded: CloudNativePG ${release.version} operator up after ${Math.round((Date.now() - started) / 1000)} s`);

      const rendered = await kubectl(layout, ['kustomize', CNPG_OVERLAY]);
      if (rendered.exitCode !== 0) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`kubectl kustomize ${CNPG_OVERLAY} failed: ${(rendered.all ?? '').trim()}`);
      const cluster = clusterObjects(parseAllDocuments(rendered.stdout).map((d) => d.toJS() as KubeObject).filter(Boolean), operand.ref, input.instances);
      const instances = Number((cluster.at(-1)?.spec as { instances?: number } | undefined)?.instances ?? 1);
      // The operator's webhooks answer a little after its pod is ready (kube-proxy writes the Service's rules
      // when it sees the endpoint): the Cluster is applied again until they do.
      let lastError = '';
      await waitFor(async () => {
        try {
          await apply(layout, cluster, `the CloudNativePG Cluster ${CNPG_CLUSTER}`);
          return true;
        } catch (error) {
          lastError = (error as Error).message;
          return undefined;
        }
      }, { what: `the CloudNativePG Cluster ${CNPG_CLUSTER} accepted`, timeoutMs: 60_000, signal: ctx.signal, intervalMs: 1000 }).catch((error: unknown) => {
        throw isSloError(error) && error.code === 'SLO_ERR_ENV_TIMEOUT' ? errors.SLO_ERR_ENV_TIMEOUT(`${error.message}: ${lastError}`) : error;
      });
      const namespace = cluster.at(-1)?.metadata.namespace ?? 'default';
      await waitFor(async () => {
        const got = await kubectl(layout, ['-n', namespace, 'get', 'clusters.postgresql.cnpg.io', CNPG_CLUSTER, '-o', 'json']);
        const status = got.exitCode === 0 ? (JSON.parse(got.stdout) as { status?: ClusterStatus }).status : undefined;
        if (clusterHealthy(status, instances) && (await kubectl(layout, ['-n', namespace, 'get', 'secret', `${CNPG_CLUSTER}-app`])).exitCode === 0) return true;
        await throwIfStuck(layout, namespace);
        return undefined;
      }, {
        what: `the CloudNativePG Cluster ${namespace}/${CNPG_CLUSTER} healthy with ${instances} instances`, timeoutMs: 420_000, signal: ctx.signal, intervalMs: 2000,
        hint: `kubectl --kubeconfig=${layout.adminKubeconfig} -n ${namespace} get cluster ${CNPG_CLUSTER} -o yaml; logs: kubectl -n ${CNPG_NAMESPACE} logs deployment/${CNPG_DEPLOYMENT}`,
      });
      input.log(`embedded: CloudNativePG Cluster ${CNPG_CLUSTER} healthy (${instances} instances) ${Math.round((Date.now() - started) / 1000)} s after the operator's install began`);
      input.onInstalled?.(release.version, operand.ref);
    },
    async down() {},
  };
}
