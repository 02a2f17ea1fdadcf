// The reference service's image, built without Docker: what reference-app/Dockerfile puts in an image
// (package.json, dist/ compiled from src/ by its build stage's `npm run build`, production node_modules,
// `node dist/server.mjs` as PID 1 under UID 1000), assembled in a folder and packed as a docker-archive
// (images.ts). The build runs reference-app/build.ts on reference-app's own node_modules, writing straight
// into the image's /app/dist. The Dockerfile's base image cannot be pulled here, so the node runtime comes
// from this machine: the node binary running the harness and the shared libraries it links (ldd), at the
// paths the dynamic loader expects. The archive is cached under .tools/images/, keyed by everything that
// goes into it (the build's inputs: package.json, the lockfile, build.ts and src/), so a second `up`
// imports it without building and any change to src/ builds a new one.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { errors } from '../../contract/errors.ts';
import { packImage, runtimeConfig } from './images.ts';

/** Where the reference service's files are (the Dockerfile's build context). */
export const REFERENCE_APP_DIR = fileURLToPath(new URL('../../reference-app/', import.meta.url));
const IMAGES_DIR = fileURLToPath(new URL('../../.tools/images/', import.meta.url));

/** Under localhost/ so that nothing ever tries to pull it; the embedded overlay names it. */
export const REFERENCE_IMAGE_REPOSITORY = 'localhost/slo-reference-app';
export const REFERENCE_IMAGE_TAG = 'dev';

export interface AppImageOptions {
  log: (line: string) => void;
  /** The node binary to put in the image (default: the one running this process). */
  node?: string;
  appDir?: string;
  cacheDir?: string;
}

/** What the Dockerfile's stages copy from the build context: package.json, package-lock.json, build.ts and src/. */
export function contextFiles(appDir: string): string[] {
  const files = ['package.json', 'package-lock.json', 'build.ts'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(appDir, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  walk('src');
  return files;
}

/** The shared libraries `ldd` names for a binary, the loader included (absolute paths on this machine). */
export function parseLdd(output: string): string[] {
  const libs: string[] = [];
  for (const line of output.split('\n')) {
    const arrow = /=>\s+(\/\S+)/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(/.exec(line);
    const path = arrow?.[1] ?? bare?.[1];
    if (path) libs.push(path);
  }
  return libs;
}

/** Content key of the image: the node binary, its libraries, the context files (dist/ is built from them). */
export function imageKey(node: string, libs: readonly string[], appDir: string, files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const path of [node, ...libs]) {
    const s = statSync(path);
    hash.update(`${path} ${s.size} ${s.mtimeMs}\n`);
  }
  for (const file of files) hash.update(`${file}\n`).update(readFileSync(join(appDir, file)));
  return hash.digest('hex').slice(0, 16);
}

/** `npm ci --omit=dev` as the Dockerfile's deps stage, into a cached folder keyed by the lockfile. */
async function productionModules(appDir: string, cacheDir: string, log: (line: string) => void): Promise<string> {
  const lock = readFileSync(join(appDir, 'package-lock.json'));
  const dir = join(cacheDir, `deps-${createHash('sha256').update(lock).digest('hex').slice(0, 16)}`);
  if (existsSync(join(dir, 'node_modules', '.package-lock.json'))) return join(dir, 'node_modules');
  log('embedded: installing the reference service\'s production dependencies (npm ci --omit=dev)');
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  copyFileSync(join(appDir, 'package.json'), join(staging, 'package.json'));
  copyFileSync(join(appDir, 'package-lock.json'), join(staging, 'package-lock.json'));
  const result = await execa('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: staging, reject: false, all: true });
  if (result.exitCode !== 0) {
    throw errors.SLO_ERR_ENV_PROCESS_FAILED(`npm ci --omit=dev for the reference service's image failed: ${(result.all ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return join(dir, 'node_modules');
}

/** The Dockerfile's build stage: `npm run build` (build.ts) on reference-app's own node_modules, into `outdir`. */
export async function buildDist(appDir: string, outdir: string): Promise<void> {
  const result = await execa(process.execPath, ['--import', 'tsx', 'build.ts', '--outdir', outdir], { cwd: appDir, reject: false, all: true });
  if (result.exitCode !== 0 || !existsSync(join(outdir, 'server.mjs'))) {
    throw errors.SLO_ERR_ENV_PROCESS_FAILED(`building the reference service (reference-app/build.ts) failed: ${(result.all ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  }
}

/** The image's container config, as the Dockerfile's ENV, WORKDIR, USER and CMD lines set it. */
export function referenceAppConfig(): Record<string, unknown> {
  return {
    Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=production', 'PORT=8080', 'HOST=0.0.0.0'],
    WorkingDir: '/app',
    User: '1000:1000',
    ExposedPorts: { '8080/tcp': {} },
    Cmd: ['node', 'dist/server.mjs'],
  };
}

/**
 * Builds (or finds in the cache) the reference service's image archive; returns its path and reference.
 * Cost when cold: npm ci (~10 s with a warm npm cache), the build (<1 s) and packing ~200 MB (~5 s).
 */
export async function referenceAppImage(options: AppImageOptions): Promise<{ archive: string; ref: string }> {
  const node = options.node ?? process.execPath;
  const appDir = options.appDir ?? REFERENCE_APP_DIR;
  const cacheDir = options.cacheDir ?? IMAGES_DIR;
  const ref = `${REFERENCE_IMAGE_REPOSITORY}:${REFERENCE_IMAGE_TAG}`;
  const ldd = await execa('ldd', [node], { reject: false });
  const libs = ldd.exitCode === 0 ? parseLdd(ldd.stdout) : []; // "not a dynamic executable": a static node
  const files = contextFiles(appDir);
  const archive = join(cacheDir, `reference-app-${imageKey(node, libs, appDir, files)}.tar`);
  if (existsSync(archive)) return { archive, ref };

  const modules = await productionModules(appDir, cacheDir, options.log);
  options.log(`embedded: building the reference service's image ${ref}`);
  const rootfs = join(cacheDir, 'reference-app.rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  for (const dir of ['app', 'etc', 'tmp', 'usr/bin', 'home/node']) mkdirSync(join(rootfs, dir), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  copyFileSync(node, join(rootfs, 'usr/bin/node'));
  chmodSync(join(rootfs, 'usr/bin/node'), 0o755);
  for (const lib of libs) {
    mkdirSync(join(rootfs, dirname(lib)), { recursive: true });
    copyFileSync(lib, join(rootfs, lib)); // follows the symlink: the file the loader would open
  }
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/usr/sbin/nologin\nnode:x:1000:1000:node:/home/node:/usr/sbin/nologin\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
  copyFileSync(join(appDir, 'package.json'), join(rootfs, 'app/package.json'));
  await buildDist(appDir, join(rootfs, 'app/dist'));
  cpSync(modules, join(rootfs, 'app/node_modules'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(cacheDir, { recursive: true });
  for (const old of readdirSync(cacheDir).filter((f) => /^reference-app-[0-9a-f]+\.tar$/.test(f))) rmSync(join(cacheDir, old));
  await packImage(rootfs, ref, (digest) => runtimeConfig(referenceAppConfig(), digest, `clusters/embedded/app-image.ts: ${relative(process.cwd(), appDir) || '.'}`), `${archive}.partial`);
  renameSync(`${archive}.partial`, archive);
  rmSync(rootfs, { recursive: true, force: true });
  return { archive, ref };
}

/** The image a user's `--app` command runs in: nothing but the layout of this machine's root. */
export const HOST_RUNNER_IMAGE = 'localhost/slo-host-runner:v1';

/**
 * A root filesystem with Debian's merged-/usr links (bin, lib, lib64, sbin -> usr/...), /etc/passwd and
 * /tmp, and nothing else: the Deployment mounts this machine's /usr (and /etc/alternatives) read-only and
 * the command's folder, so `--app "node server.js"` or `--app "python3 app.py"` runs in a pod on the
 * programs it runs on here. Tiny and fixed, so it is packed once.
 */
export async function hostRunnerImage(options: Pick<AppImageOptions, 'cacheDir' | 'log'>): Promise<{ archive: string; ref: string }> {
  const cacheDir = options.cacheDir ?? IMAGES_DIR;
  const archive = join(cacheDir, 'host-runner-v1.tar');
  if (existsSync(archive)) return { archive, ref: HOST_RUNNER_IMAGE };
  options.log(`embedded: building ${HOST_RUNNER_IMAGE}`);
  const rootfs = join(cacheDir, 'host-runner.rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  for (const dir of ['etc/alternatives', 'tmp', 'usr', 'home', 'proc', 'dev', 'sys']) mkdirSync(join(rootfs, dir), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  for (const [link, target] of [['bin', 'usr/bin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64'], ['sbin', 'usr/sbin']] as const) symlinkSync(target, join(rootfs, link));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  mkdirSync(cacheDir, { recursive: true });
  await packImage(rootfs, HOST_RUNNER_IMAGE, (digest) => runtimeConfig({ Env: ['PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'], WorkingDir: '/', Cmd: ['/bin/sh'] }, digest, 'clusters/embedded/app-image.ts: host runner'), `${archive}.partial`);
  renameSync(`${archive}.partial`, archive);
  rmSync(rootfs, { recursive: true, force: true });
  return { archive, ref: HOST_RUNNER_IMAGE };
}
