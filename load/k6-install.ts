// Finds or builds the pinned k6. k6 is AGPL-3.0: the harness only runs it as a separate program (a child
// process fed a script, read through its output files) and never vendors, links or patches its code.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { errors } from '../contract/errors.ts';

/** The one k6 version the scenarios and the CSV parsing are written for. */
export const K6_VERSION = 'v1.8.1';
const K6_MODULE = `go.k6.io/k6@${K6_VERSION}`;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PROJECT_K6 = join(REPO_ROOT, '.tools', 'bin', 'k6');

async function versionOf(binary: string): Promise<string | null> {
  try {
    const { stdout } = await execa(binary, ['version'], { timeout: 10_000, reject: true });
    return /k6 (v\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? null;
  } catch {
    return null;
  }
}

function onPath(name: string, dirs: readonly string[]): string | null {
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** Where to look; the defaults are the real machine, tests point them elsewhere. */
export interface K6Locations {
  pathDirs: readonly string[];
  projectK6: string;
  /** Go binary, or null when Go is not installed. */
  go: string | null;
}

function defaultLocations(): K6Locations {
  const pathDirs = (process.env.PATH ?? '').split(':');
  const go = onPath('go', pathDirs) ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
  return { pathDirs, projectK6: PROJECT_K6, go };
}

let cached: Promise<string> | undefined;

/**
 * Path of a k6 binary at K6_VERSION: `k6` on PATH when it is that version, else `.tools/bin/k6`, else built
 * from source with Go into `.tools/bin` (minutes, once). Memoised: later calls in the process are instant.
 */
export function ensureK6(opts: { log?: (line: string) => void } = {}): Promise<string> {
  cached ??= findOrBuildK6(defaultLocations(), opts.log ?? (() => {})).catch((err: unknown) => {
    cached = undefined; // a later call may succeed once the tool is installed
    throw err;
  });
  return cached;
}

export async function findOrBuildK6(where: K6Locations, log: (line: string) => void = () => {}): Promise<string> {
  const system = onPath('k6', where.pathDirs);
  if (system && (await versionOf(system)) === K6_VERSION) return system;
  if (existsSync(where.projectK6) && (await versionOf(where.projectK6)) === K6_VERSION) return where.projectK6;

  const go = where.go;
  if (!go) {
    throw errors.SLO_ERR_ENV_MISSING_TOOL(
      `k6 ${K6_VERSION} not found (PATH, ${where.projectK6}) and Go is not installed to build it`,
      `install k6 ${K6_VERSION} from https://github.com/grafana/k6/releases onto PATH, or install Go and rerun (it builds into .tools/bin)`,
    );
  }
  log(`building k6 ${K6_VERSION} with ${go} into ${dirname(where.projectK6)} (a few minutes, once)`);
  try {
    await execa(go, ['install', K6_MODULE], {
      env: { GOBIN: dirname(where.projectK6), GOFLAGS: '-buildvcs=false' },
      timeout: 20 * 60_000,
    });
  } catch (cause) {
    throw errors.SLO_ERR_ENV_INSTALL_FAILED(`go install ${K6_MODULE} failed`, 'check the Go module proxy is reachable (GOPROXY)', { cause });
  }
  const built = await versionOf(where.projectK6);
  if (built !== K6_VERSION) throw errors.SLO_ERR_ENV_INSTALL_FAILED(`built k6 reports ${built ?? 'no version'}, expected ${K6_VERSION}`);
  return where.projectK6;
}
