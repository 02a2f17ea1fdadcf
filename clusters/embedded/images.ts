// Container images without Docker or a registry: a docker-archive tarball (manifest.json, an image config,
// one layer) written around one static binary we built, then `ctr images import`ed into the cluster's
// containerd. GNU tar makes the layer byte-for-byte reproducible (sorted names, owner 0, mtime 0), so the
// image id only changes when the binary does.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  return {
    architecture: 'amd64',
    os: 'linux',
    config: { Entrypoint: spec.entrypoint, Env: ['PATH=/'], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: `clusters/embedded/images.ts: ${spec.binary}` }],
  };
}

/** Writes <workDir>/<name>.tar (docker-archive) and returns its path. */
export async function writeImageArchive(spec: ImageSpec, binDir: string, workDir: string): Promise<string> {
  const dir = join(workDir, spec.binary);
  const rootfs = join(dir, 'rootfs');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  copyFileSync(join(binDir, spec.binary), join(rootfs, spec.binary));
  chmodSync(join(rootfs, spec.binary), 0o755);
  await execa('tar', [...TAR_FLAGS, '-C', rootfs, '-cf', join(dir, 'layer.tar'), '.']);

  const layerDigest = sha256(readFileSync(join(dir, 'layer.tar')));
  mkdirSync(join(dir, layerDigest));
  copyFileSync(join(dir, 'layer.tar'), join(dir, layerDigest, 'layer.tar'));
  const config = Buffer.from(JSON.stringify(imageConfig(spec, layerDigest)));
  const configName = `${sha256(config)}.json`;
  writeFileSync(join(dir, configName), config);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [spec.ref], Layers: [`${layerDigest}/layer.tar`] }]));

  const archive = join(workDir, `${spec.binary}.tar`);
  await execa('tar', [...TAR_FLAGS, '-C', dir, '-cf', archive, 'manifest.json', configName, `${layerDigest}/layer.tar`]);
  rmSync(dir, { recursive: true, force: true });
  return archive;
}

export function imagesStep(layout: Layout): Step {
  const workDir = join(layout.stateDir, 'images');
  return {
    name: 'images',
    async up() {
      mkdirSync(workDir, { recursive: true });
      for (const spec of IMAGES) {
        const archive = await writeImageArchive(spec, layout.binDir, workDir);
        const imported = await ctr(layout, ['images', 'import', archive]);
        if (imported.exitCode !== 0) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`ctr images import ${spec.ref} failed: ${(imported.all ?? '').trim()}`);
      }
    },
    // The images live in containerd's root, which its teardown removes.
    async down() {
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
