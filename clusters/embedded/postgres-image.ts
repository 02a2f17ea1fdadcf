// The PostgreSQL 15 operand image CloudNativePG runs on the embedded cluster, built without Docker from this
// machine's Debian packages (postgresql-15, which the setup installs): their files, every shared library
// their programs and modules link (ldd), the time zone data and the C.UTF-8 locale, packed as a
// docker-archive (images.ts). What the operator asks of an operand image (its docs, "Container Image
// Requirements", and the instance manager's code): initdb, postgres, pg_ctl, pg_controldata, pg_basebackup
// and pg_rewind on PATH; a working locale; a tag that starts with the major version (the operator reads the
// major version from it); the postgres user at UID 26 (the Cluster's default postgresUID); no entrypoint (the
// pod runs /controller/manager, the instance manager the bootstrap init container copies in). Cached under
// .tools/images/, keyed by every file that goes in.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { errors } from '../../contract/errors.ts';
import { parseLdd } from './app-image.ts';
import { packImage, runtimeConfig } from './images.ts';

const IMAGES_DIR = fileURLToPath(new URL('../../.tools/images/', import.meta.url));
/** Under localhost/ so that nothing ever tries to pull it. */
export const POSTGRES_IMAGE_REPOSITORY = 'localhost/slo-postgresql';
export const POSTGRES_MAJOR = 15;
const PG_BIN = `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`;
const PG_LIB = `/usr/lib/postgresql/${POSTGRES_MAJOR}/lib`;
/** The Debian packages whose files make the server and its client tools. */
const PACKAGES = [`postgresql-${POSTGRES_MAJOR}`, `postgresql-client-${POSTGRES_MAJOR}`, 'libpq5'];
/** A shell and the few tools an operator's `kubectl exec` (and the instance manager's upgrade path: cp) expect. */
const TOOLS = ['/usr/bin/sh', '/usr/bin/dash', '/usr/bin/cp', '/usr/bin/ls', '/usr/bin/cat', '/usr/bin/mkdir', '/usr/bin/rm', '/usr/bin/mv', '/usr/bin/ln', '/usr/bin/id', '/usr/bin/sleep'];
/** Folders copied whole: the time zones PostgreSQL reads (Debian builds it with the system's tzdata), the C.UTF-8 locale. */
const TREES = ['/usr/share/zoneinfo', '/usr/lib/locale/C.utf8'];
/** CloudNativePG's default postgresUID / postgresGID. */
export const POSTGRES_UID = 26;

export interface PostgresImageOptions {
  log: (line: string) => void;
  cacheDir?: string;
  /** For tests: a package list reader other than dpkg. */
  listPackage?: (pkg: string) => Promise<string[]>;
}

/** The image's container config: PATH with the server's programs first, the locale, UID 26, no entrypoint. */
export function postgresImageConfig(): Record<string, unknown> {
  return {
    Env: [`PATH=${PG_BIN}:/usr/local/bin:/usr/bin:/bin`, 'LANG=C.UTF-8', 'LC_ALL=C.UTF-8'],
    WorkingDir: '/',
    User: `${POSTGRES_UID}:${POSTGRES_UID}`,
  };
}

/** "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)" -> "15.20" (the tag: major version first). */
export function versionTag(postgresV: string): string | undefined {
  return /\(PostgreSQL\)\s+(\d+(?:\.\d+)?)/.exec(postgresV)?.[1];
}

async function dpkgFiles(pkg: string): Promise<string[]> {
  const listed = await execa('dpkg', ['-L', pkg], { reject: false });
  if (listed.exitCode !== 0) {
    throw errors.SLO_ERR_ENV_MISSING_TOOL(`the PostgreSQL operand image is built from Debian's ${pkg}, which is not installed`,
      `apt-get install postgresql-${POSTGRES_MAJOR} postgresql-client-${POSTGRES_MAJOR}`);
  }
  return listed.stdout.split('\n');
}

/**
 * Regular files and symlinks that exist here; no folders, no documentation, and no JIT: llvmjit.so and its
 * bitcode pull in libLLVM and libz3 (~155 MB of a ~265 MB image), and PostgreSQL without its JIT provider
 * just runs without JIT (what an OLTP service's short queries want anyway).
 */
function keep(path: string): boolean {
  if (!path.startsWith('/') || /\/(doc|man|lintian|bug|bitcode)\/|\/llvmjit/.test(path)) return false;
  try {
    const s = lstatSync(path);
    return s.isFile() || s.isSymbolicLink();
  } catch {
    return false;
  }
}

/** `/lib/x86_64-linux-gnu/libc.so.6` -> `/usr/lib/x86_64-linux-gnu/libc.so.6`: one place per file under merged /usr. */
function canonical(path: string): string {
  return join(realpathSync(dirname(path)), basename(path));
}

function isElfCandidate(path: string): boolean {
  return path.startsWith(`${PG_BIN}/`) || (path.startsWith(PG_LIB) && path.endsWith('.so')) || /\/lib[^/]*\.so[.\d]*$/.test(path) || TOOLS.includes(path);
}

/** Every file of the image (host paths, canonical), the shared libraries of its programs and modules included. */
async function imageFiles(listPackage: (pkg: string) => Promise<string[]>): Promise<string[]> {
  const files = new Set<string>();
  for (const pkg of PACKAGES) for (const path of await listPackage(pkg)) if (keep(path)) files.add(canonical(path));
  for (const tool of TOOLS) if (existsSync(tool)) files.add(canonical(tool));
  const elves = [...files].filter((f) => isElfCandidate(f) && statSync(f).isFile());
  for (const elf of elves) {
    const ldd = await execa('ldd', [elf], { reject: false });
    if (ldd.exitCode !== 0) continue; // not dynamic (a script, a static binary)
    for (const lib of parseLdd(ldd.stdout)) {
      files.add(canonical(lib));
      // The loader opens the name ldd printed: keep the symlink chain (libfoo.so.1 -> libfoo.so.1.2.3).
      if (lstatSync(lib).isSymbolicLink()) files.add(canonical(realpathSync(lib)));
    }
  }
  return [...files].sort();
}

function contentKey(files: readonly string[], tag: string): string {
  const hash = createHash('sha256').update(`${tag}\n`);
  for (const file of files) {
    const s = lstatSync(file);
    hash.update(`${file} ${s.size} ${s.mtimeMs}\n`);
  }
  for (const tree of TREES) hash.update(`${tree}\n`);
  return hash.digest('hex').slice(0, 16);
}

function copyInto(rootfs: string, path: string): void {
  const target = join(rootfs, path);
  mkdirSync(dirname(target), { recursive: true });
  if (existsSync(target) || lstatSync(target, { throwIfNoEntry: false })) return;
  const s = lstatSync(path);
  if (s.isSymbolicLink()) symlinkSync(readlinkSync(path), target);
  else {
    copyFileSync(path, target);
    chmodSync(target, s.mode & 0o7777);
  }
}

/**
 * Builds (or finds in the cache) the operand image; returns its archive and reference
 * (`localhost/slo-postgresql:15.20`, the version of Debian's postgresql-15). ~5 s cold, a stat of each file warm.
 */
export async function postgresImage(options: PostgresImageOptions): Promise<{ archive: string; ref: string }> {
  const cacheDir = options.cacheDir ?? IMAGES_DIR;
  const version = await execa(join(PG_BIN, 'postgres'), ['-V'], { reject: false });
  const tag = version.exitCode === 0 ? versionTag(version.stdout) : undefined;
  if (!tag) {
    throw errors.SLO_ERR_ENV_MISSING_TOOL(`the PostgreSQL operand image is built from Debian's postgresql-${POSTGRES_MAJOR}, and ${PG_BIN}/postgres does not run`,
      `apt-get install postgresql-${POSTGRES_MAJOR} postgresql-client-${POSTGRES_MAJOR}`);
  }
  const ref = `${POSTGRES_IMAGE_REPOSITORY}:${tag}`;
  const files = await imageFiles(options.listPackage ?? dpkgFiles);
  const archive = join(cacheDir, `postgresql-${contentKey(files, tag)}.tar`);
  if (existsSync(archive)) return { archive, ref };

  options.log(`embedded: building the PostgreSQL operand image ${ref} from Debian's packages`);
  const rootfs = join(cacheDir, 'postgresql.rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  for (const dir of ['usr/bin', 'usr/lib', 'usr/lib64', 'usr/sbin', 'etc', 'tmp', 'var/lib/postgresql', 'run/postgresql', 'controller', 'proc', 'dev', 'sys']) {
    mkdirSync(join(rootfs, dir), { recursive: true });
  }
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  // Debian's merged /usr, so the paths ldd printed and the loader's /lib64 resolve as they do here.
  for (const [link, target] of [['bin', 'usr/bin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64'], ['sbin', 'usr/sbin']] as const) symlinkSync(target, join(rootfs, link));
  for (const file of files) copyInto(rootfs, file);
  for (const tree of TREES) cpSync(tree, join(rootfs, tree), { recursive: true, verbatimSymlinks: true });
  writeFileSync(join(rootfs, 'etc/passwd'), `root:x:0:0:root:/root:/usr/sbin/nologin\npostgres:x:${POSTGRES_UID}:${POSTGRES_UID}:PostgreSQL:/var/lib/postgresql:/bin/sh\n`);
  writeFileSync(join(rootfs, 'etc/group'), `root:x:0:\npostgres:x:${POSTGRES_UID}:\n`);
  writeFileSync(join(rootfs, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
  mkdirSync(cacheDir, { recursive: true });
  for (const old of readdirSync(cacheDir).filter((f) => /^postgresql-[0-9a-f]+\.tar$/.test(f))) rmSync(join(cacheDir, old));
  await packImage(rootfs, ref, (digest) => runtimeConfig(postgresImageConfig(), digest, `clusters/embedded/postgres-image.ts: Debian ${PACKAGES.join(', ')}`), `${archive}.partial`);
  renameSync(`${archive}.partial`, archive);
  rmSync(rootfs, { recursive: true, force: true });
  return { archive, ref };
}
