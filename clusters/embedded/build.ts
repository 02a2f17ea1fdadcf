// Builds the embedded cluster's programs from source (the recipe is binaries.ts) into
// .tools/kubernetes/<version>/bin/, with the machine's Go and gcc. Pinned by the go.mod/go.sum files under
// build/; each binary is cached by a stamp of its module's files, its flags and the compiler's version, so a
// second call costs a few `go list` calls and hashes. A cold build takes tens of minutes (BUILD.md).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import which from 'which';
import { errors } from '../../contract/errors.ts';
import { processAlive } from '../process-alive.ts';
import {
  BINARIES, KUBERNETES_VERSION, parseModuleInfo, pauseTag, type BinarySpec, type BuildModule, type ModuleInfo,
} from './binaries.ts';

export const BUILD_DIR = fileURLToPath(new URL('./build/', import.meta.url));
const TOOLS_DIR = fileURLToPath(new URL('../../.tools/kubernetes/', import.meta.url));

export interface EnsureOptions {
  log?: (line: string) => void;
  /** Where <version>/bin/ goes (default <project>/.tools/kubernetes). */
  toolsDir?: string;
  /**
   * `nice` level of the compilers (default 19): a cold build keeps both cores busy for many minutes, and
   * whatever else runs on the machine (tests, benchmarks) should keep its CPU. 0 runs without `nice`.
   */
  niceness?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Where Go is looked for when PATH has none (default /usr/local/go/bin/go, where go.dev installs it). */
  fallbackGo?: string;
}

export interface KubernetesBinaries {
  version: string;
  binDir: string;
  /** name -> absolute path, for every entry of BINARIES. */
  paths: Record<string, string>;
  /** name -> the version of the source it was built from (e.g. etcd -> v3.6.4). */
  versions: Record<string, string>;
}

function find(name: string, env: NodeJS.ProcessEnv, fallback?: string): string | null {
  return which.sync(name, { path: env.PATH ?? '', nothrow: true }) ?? (fallback && existsSync(fallback) ? fallback : null);
}

/** The module's own files (go.mod, go.sum, Go sources): what pins a binary's source. */
function moduleFilesHash(module: BuildModule): string {
  const dir = join(BUILD_DIR, module);
  const hash = createHash('sha256');
  for (const file of readdirSync(dir).filter((f) => /^go\.(mod|sum)$|\.go$/.test(f)).sort()) {
    hash.update(file).update(readFileSync(join(dir, file)));
  }
  return hash.digest('hex');
}

function stampOf(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 16);
}

function tail(output: string | undefined): string {
  return (output ?? '').trim().split('\n').slice(-4).join(' | ');
}

const inFlight = new Map<string, Promise<KubernetesBinaries>>();

/**
 * Paths of the built programs; builds those whose source, flags or compiler changed. One build at a time
 * per bin folder: calls in this process share one promise, other processes wait on a lock folder (two
 * cold builds at once would each take twice as long and race on the same files).
 */
/** Where the programs of this Kubernetes version are (built or not). */
export function kubernetesBinDir(toolsDir = TOOLS_DIR): string {
  return join(toolsDir, KUBERNETES_VERSION, 'bin');
}

export function ensureKubernetesBinaries(options: EnsureOptions = {}): Promise<KubernetesBinaries> {
  const binDir = kubernetesBinDir(options.toolsDir);
  let pending = inFlight.get(binDir);
  if (!pending) {
    // Missing tools are reported before anything is written.
    pending = Promise.resolve().then(() => findTools(options))
      .then((tools) => withLock(binDir, options, () => build(binDir, tools, options)))
      .finally(() => inFlight.delete(binDir));
    inFlight.set(binDir, pending);
  }
  return pending;
}


async function withLock<T>(binDir: string, options: EnsureOptions, work: () => Promise<T>): Promise<T> {
  const lock = join(binDir, '.lock');
  mkdirSync(binDir, { recursive: true });
  for (let announced = false; ;) {
    try {
      mkdirSync(lock); // atomic: exactly one process gets it
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : NaN);
      if (Number.isInteger(holder) && !processAlive(holder)) {
        rmSync(lock, { recursive: true, force: true }); // its builder died
        continue;
      }
      if (!announced) options.log?.(`kubernetes: waiting for another build of ${binDir} (pid ${holder})`);
      announced = true;
      if (options.signal?.aborted) throw errors.SLO_ERR_RUN_ABORTED('interrupted while waiting for another build');
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

interface Tools {
  go: string;
  gcc: string;
}

function findTools(options: EnsureOptions): Tools {
  const env = options.env ?? process.env;
  const go = find('go', env, options.fallbackGo ?? '/usr/local/go/bin/go');
  if (!go) {
    throw errors.SLO_ERR_ENV_MISSING_TOOL(`the embedded cluster's Kubernetes ${KUBERNETES_VERSION} is built from source with Go, and Go is not installed`,
      'install Go 1.24 or later (https://go.dev/doc/install; Debian: apt-get install golang) and rerun');
  }
  const gcc = find('gcc', env);
  if (!gcc) {
    throw errors.SLO_ERR_ENV_MISSING_TOOL('the pause container and the kubelet are built with a C compiler, and gcc is not installed',
      'apt-get install gcc libc6-dev (libc6-dev brings the static libc that pause links) and rerun');
  }
  return { go, gcc };
}

async function build(binDir: string, { go, gcc }: Tools, options: EnsureOptions): Promise<KubernetesBinaries> {
  const log = options.log ?? (() => undefined);
  const env = options.env ?? process.env;
  const niceness = options.niceness ?? 19;
  const nice = niceness > 0 ? find('nice', env) : null;
  // GOTOOLCHAIN=local: never download another Go behind the user's back. -mod=readonly: go.sum decides.
  const goEnv = { ...env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly -buildvcs=false' };
  const run = (file: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}) => execa(
    nice ? nice : file, nice ? ['-n', String(niceness), file, ...args] : args,
    { cwd, env: { ...goEnv, ...extraEnv }, extendEnv: false, reject: false, all: true, timeout: 90 * 60_000, ...(options.signal ? { cancelSignal: options.signal } : {}) },
  );

  const goVersion = (await execa(go, ['env', 'GOVERSION'], { env: goEnv, extendEnv: false, reject: false })).stdout.trim();
  const gccVersion = (await execa(gcc, ['-dumpfullversion'], { reject: false })).stdout.trim();

  // The version each program reports comes from the module proxy's facts, not from this file.
  const infos = new Map<string, ModuleInfo>();
  const infoOf = async (spec: BinarySpec): Promise<ModuleInfo> => {
    const module: BuildModule = spec.kind === 'go' ? spec.module : 'kubernetes';
    const key = `${module} ${spec.versionModule}`;
    const known = infos.get(key);
    if (known) return known;
    const listed = await execa(go, ['list', '-m', '-json', spec.versionModule], { cwd: join(BUILD_DIR, module), env: goEnv, extendEnv: false, reject: false, all: true });
    if (listed.exitCode !== 0) {
      throw errors.SLO_ERR_ENV_INSTALL_FAILED(`cannot resolve ${spec.versionModule} in ${join(BUILD_DIR, module)}: ${tail(listed.all)}`,
        'check that the Go module proxy is reachable (go env GOPROXY)');
    }
    const info = parseModuleInfo(listed.stdout);
    // Only a query by version reports where the proxy got it from (Origin.Hash, the commit); optional.
    const queried = await execa(go, ['list', '-m', '-json', `${info.path}@${info.version}`], { cwd: join(BUILD_DIR, module), env: goEnv, extendEnv: false, reject: false });
    const commit = queried.exitCode === 0 ? parseModuleInfo(queried.stdout).commit : undefined;
    if (commit) info.commit = commit;
    infos.set(key, info);
    return info;
  };

  mkdirSync(join(binDir, '.stamps'), { recursive: true });
  const paths: Record<string, string> = {};
  const versions: Record<string, string> = {};
  let built = 0;
  let announced = false;
  for (const [index, spec] of BINARIES.entries()) {
    const info = await infoOf(spec);
    const binary = join(binDir, spec.name);
    paths[spec.name] = binary;
    versions[spec.name] = info.version;

    let stamp: string;
    let build: () => ReturnType<typeof run>;
    if (spec.kind === 'go') {
      const ldflags = spec.ldflags(info);
      const args = ['build', '-trimpath', ...(spec.tags ? [`-tags=${spec.tags}`] : []), `-ldflags=${ldflags}`, '-o', `${binary}.partial`, spec.pkg];
      stamp = stampOf([goVersion, moduleFilesHash(spec.module), String(spec.cgo), spec.cgo ? gccVersion : '', spec.pkg, ...args.slice(0, -3)]);
      build = () => run(go, args, join(BUILD_DIR, spec.module), { CGO_ENABLED: spec.cgo ? '1' : '0' });
    } else {
      const dir = info.dir ?? (await execa(go, ['mod', 'download', '-json', `${info.path}@${info.version}`], { cwd: join(BUILD_DIR, 'kubernetes'), env: goEnv, extendEnv: false, reject: false }).then((r) => (r.exitCode === 0 ? parseModuleInfo(r.stdout).dir : undefined)));
      const source = dir ? join(dir, 'build/pause/linux/pause.c') : '';
      const tag = dir && existsSync(join(dir, 'build/pause/Makefile')) ? pauseTag(readFileSync(join(dir, 'build/pause/Makefile'), 'utf8')) : undefined;
      if (!dir || !existsSync(source) || !tag) {
        throw errors.SLO_ERR_ENV_INSTALL_FAILED(`pause.c or its Makefile TAG is missing from ${info.path}@${info.version} in the module cache`, `run: cd ${join(BUILD_DIR, 'kubernetes')} && go mod download ${info.path}`);
      }
      versions[spec.name] = `v${tag}`;
      const args = [...spec.cflags(info, tag), '-o', `${binary}.partial`, source];
      stamp = stampOf([gccVersion, readFileSync(source, 'utf8'), ...args.slice(0, -3)]);
      build = () => run(gcc, args, binDir);
    }

    const stampFile = join(binDir, '.stamps', spec.name);
    if (existsSync(binary) && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === stamp) continue;
    if (!announced) {
      log(`kubernetes ${KUBERNETES_VERSION}: building from source into ${binDir} (cold: about 20 minutes on 2 cores, then seconds; see clusters/embedded/BUILD.md)`);
      announced = true;
    }
    const started = Date.now();
    const result = await build();
    if (result.exitCode !== 0 || !existsSync(`${binary}.partial`)) {
      rmSync(`${binary}.partial`, { force: true });
      if (options.signal?.aborted) throw errors.SLO_ERR_RUN_ABORTED(`building ${spec.name} was interrupted`);
      throw errors.SLO_ERR_ENV_INSTALL_FAILED(`building ${spec.name} ${info.version} failed: ${tail(result.all)}`,
        `check that the Go module proxy is reachable (go env GOPROXY); to see the whole output run npx tsx clusters/embedded/build-main.ts`);
    }
    renameSync(`${binary}.partial`, binary);
    writeFileSync(stampFile, `${stamp}\n`);
    built += 1;
    log(`kubernetes: built ${spec.name} ${versions[spec.name]} in ${Math.round((Date.now() - started) / 1000)} s (${index + 1}/${BINARIES.length})`);
  }
  if (built === 0) log(`kubernetes ${KUBERNETES_VERSION}: ${BINARIES.length} programs up to date in ${binDir}`);
  writeFileSync(join(binDir, 'versions.json'), `${JSON.stringify(versions, null, 2)}\n`);
  return { version: KUBERNETES_VERSION, binDir, paths, versions };
}
