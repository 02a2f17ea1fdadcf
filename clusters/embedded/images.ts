// Container images without Docker or a registry: a docker-archive tarball (manifest.json, an image config,
// one layer) written around one static binary we built, then `ctr images import`ed into the cluster's
// containerd. GNU tar makes the layer byte-for-byte reproducible (sorted names, owner 0, mtime 0), so the
// image id only changes when the binary does.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, createReadStream, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { errors } from '../../contract/errors.ts';
import { ctr, PAUSE_IMAGE } from './containerd.ts';
import type { Layout } from './layout.ts';
import type { Step } from './steps.ts';

export interface ImageSpec {
  /** Full reference, under localhost/ so nothing ever tries to pull it. */
  ref: string;
  /** Program in the bin folder; lands at /<name> in the image. */
  binary: string;
  entrypoint: string[];
}

export const IMAGES: readonly ImageSpec[] = [
  { ref: PAUSE_IMAGE, binary: 'pause', entrypoint: ['/pause'] },
  { ref: 'localhost/slo-embedded/coredns:v1.12.1', binary: 'coredns', entrypoint: ['/coredns'] },
  { ref: 'localhost/slo-embedded/metrics-server:v0.8.0', binary: 'metrics-server', entrypoint: ['/metrics-server'] },
];

const TAR_FLAGS = ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--format=gnu'];

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The image config (pure): OCI/Docker image config with one layer's diff id. */
export function imageConfig(spec: ImageSpec, layerDigest: string): object {
  return runtimeConfig({ Entrypoint: spec.entrypoint, Env: ['PATH=/'], WorkingDir: '/' }, layerDigest, `clusters/embedded/images.ts: ${spec.binary}`);
}

/** The image config around any container config (Entrypoint/Cmd, Env, User, WorkingDir...). */
export function runtimeConfig(config: Record<string, unknown>, layerDigest: string, createdBy: string): object {
  return {
    architecture: 'amd64',
    os: 'linux',
    config,
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: createdBy }],
  };
}

/**
 * Packs a root filesystem folder into a docker-archive tarball `out` (manifest.json, config, one layer)
 * tagged `ref`. `config(layerDigest)` gives the image config. The rootfs folder is left as it is.
 */
export async function packImage(rootfs: string, ref: string, config: (layerDigest: string) => object, out: string): Promise<void> {
  const dir = `${out}.parts`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await execa('tar', [...TAR_FLAGS, '-C', rootfs, '-cf', join(dir, 'layer.tar'), '.']);
  const layerDigest = await sha256File(join(dir, 'layer.tar'));
  mkdirSync(join(dir, layerDigest));
  renameSync(join(dir, 'layer.tar'), join(dir, layerDigest, 'layer.tar'));
  const configBytes = Buffer.from(JSON.stringify(config(layerDigest)));
  const configName = `${sha256(configBytes)}.json`;
  writeFileSync(join(dir, configName), configBytes);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [ref], Layers: [`${layerDigest}/layer.tar`] }]));
  await execa('tar', [...TAR_FLAGS, '-C', dir, '-cf', out, 'manifest.json', configName, `${layerDigest}/layer.tar`]);
  rmSync(dir, { recursive: true, force: true });
}

/** Streams a (possibly large) file through SHA-256. */
async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Writes <workDir>/<name>.tar (docker-archive) and returns its path. */
export async function writeImageArchive(spec: ImageSpec, binDir: string, workDir: string): Promise<string> {
  const rootfs = join(workDir, spec.binary, 'rootfs');
  rmSync(join(workDir, spec.binary), { recursive: true, force: true });
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  copyFileSync(join(binDir, spec.binary), join(rootfs, spec.binary));
  chmodSync(join(rootfs, spec.binary), 0o755);
  const archive = join(workDir, `${spec.binary}.tar`);
  await packImage(rootfs, spec.ref, (digest) => imageConfig(spec, digest), archive);
  rmSync(join(workDir, spec.binary), { recursive: true, force: true });
  return archive;
}

/** `ctr images import` of a docker-archive into the cluster's containerd (k8s.io namespace). */
export async function importImage(layout: Layout, archive: string, ref: string): Promise<void> {
  const imported = await ctr(layout, ['images', 'import', archive]);
  if (imported.exitCode !== 0) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`ctr images import ${ref} failed: ${(imported.all ?? '').trim()}`);
}

export function imagesStep(layout: Layout): Step {
  const workDir = join(layout.stateDir, 'images');
  return {
    name: 'images',
    async up() {
      mkdirSync(workDir, { recursive: true });
      for (const spec of IMAGES) {
        await importImage(layout, await writeImageArchive(spec, layout.binDir, workDir), spec.ref);
      }
    },
    // The images live in containerd's root, which its teardown removes.
    async down() {
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
