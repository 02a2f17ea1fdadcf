// Builds the embedded engine (load/embedded/, Go on vegeta's library) with the machine's Go into the
// project's tool folder. Pinned by go.mod/go.sum; cached by a hash of the sources and the Go version, so a
// second call costs a few stats and a hash. Go missing: one line and exit 3.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import which from 'which';
import { errors } from '../contract/errors.ts';

export const ENGINE_SOURCE_DIR = fileURLToPath(new URL('./embedded/', import.meta.url));
const TOOLS_BIN = fileURLToPath(new URL('../.tools/bin/', import.meta.url));
export const ENGINE_BINARY_NAME = 'slo-load';

/** The machine's Go: PATH first, then the usual install folder. */
export function findGo(pathEnv: string | undefined = process.env.PATH): string | null {
  return which.sync('go', { path: pathEnv ?? '', nothrow: true }) ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
}

function sourceHash(goVersion: string): string {
  const hash = createHash('sha256').update(goVersion);
  for (const file of readdirSync(ENGINE_SOURCE_DIR).filter((f) => /\.go$|^go\.(mod|sum)$/.test(f) && !f.endsWith('_test.go')).sort()) {
    hash.update(file).update(readFileSync(join(ENGINE_SOURCE_DIR, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

let cached: Promise<string> | undefined;

/** Path of the built engine; builds it when the sources or Go changed. Memoised per process. */
export function ensureEmbeddedEngine(options: { log?: (line: string) => void } = {}): Promise<string> {
  cached ??= buildEmbeddedEngine({ log: options.log ?? (() => undefined) }).catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

export interface BuildOptions {
  log: (line: string) => void;
  /** Where the binary goes (default .tools/bin). */
  toolsBin?: string;
  /** The Go to build with; null means none is installed (tests). Found on the machine when absent. */
  go?: string | null;
}

/** Builds (or finds up to date) the engine; not memoised. */
export async function buildEmbeddedEngine(options: BuildOptions): Promise<string> {
  const toolsBin = options.toolsBin ?? TOOLS_BIN;
  const log = options.log;
  const go = options.go === undefined ? findGo() : options.go;
  if (!go) {
    throw errors.SLO_ERR_ENV_MISSING_TOOL('the embedded load engine is built with Go, and Go is not installed',
      'install Go 1.24 or later (https://go.dev/doc/install; Debian: apt-get install golang) and rerun');
  }
  const version = (await execa(go, ['env', 'GOVERSION'], { reject: false })).stdout.trim();
  const binary = join(toolsBin, ENGINE_BINARY_NAME);
  const stamp = `${binary}.stamp`;
  const want = sourceHash(version);
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) return binary;

  mkdirSync(toolsBin, { recursive: true });
  log(`building the embedded load engine (vegeta) with ${version || 'go'} into ${toolsBin} (once)`);
  const partial = `${binary}.partial`;
  const result = await execa(go, ['build', '-trimpath', '-o', partial, '.'], {
    cwd: ENGINE_SOURCE_DIR,
    env: { GOFLAGS: '-buildvcs=false -mod=readonly', GOTOOLCHAIN: 'local' },
    reject: false,
    all: true,
    timeout: 15 * 60_000,
  });
  if (result.exitCode !== 0) {
    const tail = (result.all ?? '').trim().split('\n').slice(-3).join(' | ');
    throw errors.SLO_ERR_ENV_INSTALL_FAILED(`building the embedded load engine failed: ${tail}`, `check that the Go module proxy is reachable (GOPROXY), then run: cd ${ENGINE_SOURCE_DIR} && go build -o ${binary} .`);
  }
  renameSync(partial, binary);
  writeFileSync(stamp, `${want}\n`);
  return binary;
}
