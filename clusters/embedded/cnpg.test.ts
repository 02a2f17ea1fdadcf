// CloudNativePG's pieces on the embedded cluster, without a cluster: the release manifest as installed here,
// the operator's and the operand's images (unpacked and run: the operand's initdb, postgres and client
// tools as UID 26 in a chroot; the operator's /manager as its bootstrap container calls it), the local
// volumes and the overlay's Cluster.
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { cnpgLdflags } from './binaries.ts';
import { kubernetesBinDir } from './build.ts';
import { CNPG_OVERLAY, clusterHealthy, clusterObjects, cnpgRelease, operatorImage, operatorObjects, storageObjects } from './cnpg.ts';
import { layoutFor } from './layout.ts';
import { postgresImage, versionTag } from './postgres-image.ts';

const root = process.getuid?.() === 0;
const manager = join(kubernetesBinDir(), 'cnpg-manager');
const scratch: string[] = [];
afterAll(() => {
  for (const folder of scratch) rmSync(folder, { recursive: true, force: true });
});
function temp(): string {
  const folder = mkdtempSync(join(tmpdir(), 'slo-cnpg-'));
  scratch.push(folder);
  return folder;
}

/** Unpacks a docker-archive's single layer into a folder. */
async function unpack(archive: string): Promise<{ rootfs: string; config: { config: Record<string, unknown> } }> {
  const dir = temp();
  await execa('tar', ['-xf', archive, '-C', dir]);
  const [entry] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { Config: string; Layers: string[] }[];
  const rootfs = join(dir, 'rootfs');
  await execa('mkdir', ['-p', rootfs]);
  await execa('tar', ['-xf', join(dir, entry?.Layers[0] ?? ''), '-C', rootfs]);
  return { rootfs, config: JSON.parse(readFileSync(join(dir, entry?.Config ?? ''), 'utf8')) as { config: Record<string, unknown> } };
}

describe('the CloudNativePG release as installed here', () => {
  it('takes the operator image name from the module\'s manifest and never pulls it', async () => {
    const release = await cnpgRelease();
    expect(release.version).toBe('1.30.0');
    const { objects, image } = operatorObjects(readFileSync(release.manifest, 'utf8'));
    expect(image).toBe('ghcr.io/cloudnative-pg/cloudnative-pg:1.30.0');
    const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: { imagePullPolicy: string; env: { name: string; value?: string }[] }[] } } } };
    const container = deployment.spec.template.spec.containers[0];
    expect(container?.imagePullPolicy).toBe('Never');
    // The operator hands the same name to the bootstrap init container of every PostgreSQL pod.
    expect(container?.env.find((e) => e.name === 'OPERATOR_IMAGE_NAME')?.value).toBe(image);
    expect(objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name)).toContain('clusters.postgresql.cnpg.io');
  });

  it('versions the manager as the release does: version without v, short commit, day', () => {
    expect(cnpgLdflags({ path: 'm', version: 'v1.30.0', commit: '4b5e244a7d031f67e025c83c1555e7726ecbbfa1', time: '2026-06-29T10:00:00Z' }))
      .toBe("-s -w -X 'github.com/cloudnative-pg/cloudnative-pg/pkg/versions.buildVersion=1.30.0' -X 'github.com/cloudnative-pg/cloudnative-pg/pkg/versions.buildCommit=4b5e244' -X 'github.com/cloudnative-pg/cloudnative-pg/pkg/versions.buildDate=2026-06-29'");
  });

  it.runIf(existsSync(manager))('packs the manager as its Dockerfile does: /manager -> operator/manager_amd64, working folder /', async () => {
    const release = await cnpgRelease();
    const archive = await operatorImage(manager, release, 'ghcr.io/cloudnative-pg/cloudnative-pg:1.30.0', temp());
    const { rootfs, config } = await unpack(archive);
    expect(readlinkSync(join(rootfs, 'manager'))).toBe('operator/manager_amd64');
    expect(config.config).toMatchObject({ Entrypoint: ['/manager'], WorkingDir: '/' });
    // `manager bootstrap <dest>` copies the file named like its command ("manager") from the working folder.
    const copied = join(temp(), 'manager');
    const bootstrap = await execa(join(rootfs, 'manager'), ['bootstrap', copied], { cwd: rootfs, reject: false, all: true });
    expect(bootstrap.exitCode, bootstrap.all).toBe(0);
    expect((await execa(copied, ['version'])).stdout).toMatch(/Version:1\.30\.0 Commit:4b5e244/);
  });
});

describe('the PostgreSQL operand image from Debian\'s packages', () => {
  it('tags with the major version first', () => {
    expect(versionTag('postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)')).toBe('15.20');
    expect(versionTag('nonsense')).toBeUndefined();
  });

  it.runIf(root)('runs initdb, postgres, pg_ctl, pg_controldata, psql as UID 26 in C.UTF-8, with no entrypoint', async () => {
    const image = await postgresImage({ log: () => undefined, cacheDir: temp() });
    expect(image.ref).toMatch(/^localhost\/slo-postgresql:15\.\d+$/);
    const { rootfs, config } = await unpack(image.archive);
    expect(config.config.Entrypoint).toBeUndefined();
    expect(config.config.User).toBe('26:26');
    expect(readFileSync(join(rootfs, 'etc/passwd'), 'utf8')).toMatch(/^postgres:x:26:26:/m);
    for (const tool of ['initdb', 'postgres', 'pg_ctl', 'pg_controldata', 'pg_basebackup', 'pg_rewind']) expect(existsSync(join(rootfs, 'usr/lib/postgresql/15/bin', tool))).toBe(true);
    // The container runtime provides /dev; the chroot borrows this machine's.
    await execa('mount', ['--bind', '/dev', join(rootfs, 'dev')]);
    try {
      const env = Object.fromEntries((config.config.Env as string[]).map((e) => e.split(/=(.*)/s).slice(0, 2)));
      const script = [
        'initdb -D /tmp/data >/tmp/initdb.log 2>&1',
        'pg_controldata /tmp/data >/tmp/controldata',
        'pg_ctl -D /tmp/data -o "-k /tmp -c listen_addresses=" -l /tmp/pg.log -w start >/dev/null',
        'psql -h /tmp -d postgres -Atc "select current_user, current_setting(\'lc_collate\'), current_setting(\'server_encoding\'), pg_jit_available()"',
        'pg_ctl -D /tmp/data -w stop >/dev/null',
      ].join(' && ');
      const run = await execa('/usr/sbin/chroot', ['--userspec=26:26', rootfs, 'sh', '-c', script], { env, extendEnv: false, reject: false, all: true });
      expect(run.exitCode, run.all).toBe(0);
      expect(run.stdout.trim()).toBe('postgres|C.UTF-8|UTF8|f');
    } finally {
      await execa('umount', [join(rootfs, 'dev')]);
    }
  });
});

describe('storage and the Cluster on the embedded node', () => {
  it('makes local volumes under the state folder, pinned to the node, in a class with no provisioner', () => {
    const layout = layoutFor('/var/lib/slo-embedded', '/bin', '192.0.2.2');
    const [storageClass, ...volumes] = storageObjects(layout, '/var/lib/slo-embedded/volumes', 3);
    expect(storageClass).toMatchObject({ kind: 'StorageClass', metadata: { name: 'slo-local' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' });
    expect(volumes.map((v) => (v.spec as { local: { path: string } }).local.path)).toEqual(['/var/lib/slo-embedded/volumes/slo-local-0', '/var/lib/slo-embedded/volumes/slo-local-1', '/var/lib/slo-embedded/volumes/slo-local-2']);
    expect(JSON.stringify(volumes[0]?.spec)).toContain('"values":["slo-embedded"]');
  });

  it.runIf(existsSync(join(kubernetesBinDir(), 'kubectl')))('applies the base\'s Cluster from the embedded-cnpg overlay with the operand image, small requests, local storage', async () => {
    const rendered = await execa(join(kubernetesBinDir(), 'kubectl'), ['kustomize', CNPG_OVERLAY]);
    const objects = parseAllDocuments(rendered.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown> });
    // The whole overlay is the embedded one plus the Cluster: what `kubectl apply -k` would create.
    expect(objects.map((o) => o.kind).sort()).toEqual(['Cluster', 'Deployment', 'HorizontalPodAutoscaler', 'Namespace', 'PodDisruptionBudget', 'Service']);
    const [namespace, cluster] = clusterObjects(objects, 'localhost/slo-postgresql:15.20');
    expect(namespace?.kind).toBe('Namespace');
    expect(cluster?.metadata).toMatchObject({ name: 'orders-db', namespace: 'slo-reference' });
    expect(cluster?.spec).toMatchObject({
      instances: 3, imageName: 'localhost/slo-postgresql:15.20', imagePullPolicy: 'Never',
      postgresql: { synchronous: { method: 'any', number: 1, dataDurability: 'required' } },
      storage: { size: '1Gi', storageClass: 'slo-local' },
      resources: { requests: { cpu: '40m' } },
    });
    // One instance (`--set databaseInstances=1`): no standby, so no synchronous replication to hold writes.
    const [, single] = clusterObjects(objects, 'localhost/slo-postgresql:15.20', 1);
    expect(single?.spec).toMatchObject({ instances: 1, imageName: 'localhost/slo-postgresql:15.20', bootstrap: { initdb: { database: 'app' } } });
    expect(single?.spec?.postgresql).not.toHaveProperty('synchronous');
    // Two keep the base's quorum of one standby.
    expect(clusterObjects(objects, 'x', 2)[1]?.spec).toMatchObject({ instances: 2, postgresql: { synchronous: { number: 1 } } });
  });

  it('is healthy only with every instance ready and a primary', () => {
    expect(clusterHealthy({ instances: 3, readyInstances: 3, phase: 'Cluster in healthy state', currentPrimary: 'orders-db-1' }, 3)).toBe(true);
    expect(clusterHealthy({ instances: 3, readyInstances: 2, phase: 'Cluster in healthy state', currentPrimary: 'orders-db-1' }, 3)).toBe(false);
    expect(clusterHealthy({ readyInstances: 3, phase: 'Setting up primary', currentPrimary: 'orders-db-1' }, 3)).toBe(false);
    expect(clusterHealthy(undefined, 3)).toBe(false);
  });
});
