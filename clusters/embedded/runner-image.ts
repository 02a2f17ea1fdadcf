// The image of the distributed load runners (`--runners N`): the embedded engine (load/embedded, on vegeta's
// library) built here as a static binary (CGO off) and packed alone in a minimal image, as images.ts packs
// the cluster's own programs. On the embedded cluster it is imported into containerd; for kind or an
// existing cluster, write the archive and push it where the nodes pull from:
//
//   npx tsx clusters/embedded/runner-image.ts slo-load.tar [<registry>/slo-load:<tag>]
//   skopeo copy docker-archive:slo-load.tar docker://<registry>/slo-load:<tag>   (or: kind load image-archive slo-load.tar)
//   slo run --runners 3 --set runnerImage=<registry>/slo-load:<tag> ...
//
// Cached under .tools/images/, keyed by the engine's sources and the Go version, like the engine's own build.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import which from 'which';
import { errors, isSloError } from '../../contract/errors.ts';
import { importImage, packImage, runtimeConfig } from './images.ts';
import type { Layout } from './layout.ts';

/** The engine's Go module (a folder, not an import: clusters/ may not import load/). */
const ENGINE_DIR = fileURLToPath(new URL('../../load/embedded/', import.meta.url));
const IMAGES_DIR = fileURLToPath(new URL('../../.tools/images/', import.meta.url));
export const RUNNER_IMAGE_REPOSITORY = 'localhost/slo-load';

function findGo(): string {
  const go = which.sync('go', { nothrow: true }) ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
  if (!go) throw errors.SLO_ERR_ENV_MISSING_TOOL('the load runners\' image is built with Go, and Go is not installed', 'install Go 1.24 or later (https://go.dev/doc/install)');
  return go;
}

function sourceKey(goVersion: string): string {
  const hash = createHash('sha256').update(goVersion).update('CGO_ENABLED=0\n');
  for (const file of readdirSync(ENGINE_DIR).filter((f) => /\.go$|^go\.(mod|sum)$/.test(f) && !f.endsWith('_test.go')).sort()) {
    hash.update(file).update(readFileSync(join(ENGINE_DIR, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

export interface RunnerImageOptions {
  log: (line: string) => void;
  cacheDir?: string;
  /** The reference the archive is tagged with; `localhost/slo-load:<content key>` when absent. */
  ref?: string;
}

/** Builds (or finds) the runners' image archive; returns its path and reference. ~2 s warm, ~1 min cold. */
export async function runnerImage(options: RunnerImageOptions): Promise<{ archive: string; ref: string }> {
  const cacheDir = options.cacheDir ?? IMAGES_DIR;
  const go = findGo();
  const version = (await execa(go, ['env', 'GOVERSION'], { reject: false })).stdout.trim();
  const key = sourceKey(version);
  const ref = options.ref ?? `${RUNNER_IMAGE_REPOSITORY}:${key}`;
  const archive = join(cacheDir, `slo-load-${createHash('sha256').update(`${key} ${ref}`).digest('hex').slice(0, 16)}.tar`);
  if (existsSync(archive)) return { archive, ref };

  options.log(`building the load runners' image ${ref} (static slo-load)`);
  const rootfs = join(cacheDir, 'slo-load.rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  for (const dir of ['etc', 'tmp']) mkdirSync(join(rootfs, dir), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  const built = await execa(go, ['build', '-trimpath', '-ldflags=-s -w', '-o', join(rootfs, 'slo-load'), '.'], {
    cwd: ENGINE_DIR, reject: false, all: true, timeout: 15 * 60_000,
    env: { CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false -mod=readonly', GOTOOLCHAIN: 'local' },
  });
  if (built.exitCode !== 0) {
    throw errors.SLO_ERR_ENV_INSTALL_FAILED(`building the static load engine failed: ${(built.all ?? '').trim().split('\n').slice(-3).join(' | ')}`,
      `cd ${ENGINE_DIR} && CGO_ENABLED=0 go build -o slo-load .`);
  }
  chmodSync(join(rootfs, 'slo-load'), 0o755);
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  mkdirSync(cacheDir, { recursive: true });
  await packImage(rootfs, ref, (digest) => runtimeConfig({ Entrypoint: ['/slo-load'], Env: ['PATH=/'], WorkingDir: '/', User: '65534:65534' }, digest, 'clusters/embedded/runner-image.ts: slo-load (static)'), `${archive}.partial`);
  renameSync(`${archive}.partial`, archive);
  rmSync(rootfs, { recursive: true, force: true });
  return { archive, ref };
}

/** The runners' image built and imported into the embedded cluster's containerd; returns its reference. */
export async function importRunnerImage(layout: Layout, log: (line: string) => void): Promise<string> {
  const image = await runnerImage({ log });
  await importImage(layout, image.archive, image.ref);
  return image.ref;
}

// By hand: write the archive for a registry (kind, kube).
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [out, ref] = process.argv.slice(2);
  if (!out) {
    console.error('usage: npx tsx clusters/embedded/runner-image.ts <out.tar> [<registry>/slo-load:<tag>]');
    process.exitCode = 2;
  } else {
    try {
      const image = await runnerImage({ log: (line) => console.error(line), ...(ref ? { ref } : {}) });
      copyFileSync(image.archive, out);
      console.log(`${out}: ${image.ref}`);
    } catch (error) {
      if (!isSloError(error)) throw error;
      console.error(error.oneLine());
      process.exitCode = error.exitCode;
    }
  }
}
