// Finds or builds kustomize, which renders reference-app/k8s. Not packaged for Debian and not on npm, so
// when PATH has none we build the pinned release from the Go module proxy into the project's .tools/bin
// (cached there: later calls cost one stat).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import which from 'which';
import { errors } from '../../contract/errors.ts';

/** v5.8.3 and later require Go >= 1.27; this one builds with the Go 1.26 we have. */
export const KUSTOMIZE_MODULE = 'sigs.k8s.io/kustomize/kustomize/v5';
export const KUSTOMIZE_VERSION = 'v5.8.2';

const PROJECT_TOOLS_BIN = fileURLToPath(new URL('../../.tools/bin', import.meta.url));

export interface EnsureKustomizeOptions {
  /** Environment whose PATH is searched and given to `go` (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where a built kustomize is cached (defaults to <project>/.tools/bin). */
  toolsBin?: string;
}

export function installCommandLine(toolsBin = PROJECT_TOOLS_BIN): string {
  return `GOBIN=${toolsBin} GOFLAGS=-buildvcs=false GOTOOLCHAIN=local go install ${KUSTOMIZE_MODULE}@${KUSTOMIZE_VERSION}`;
}

/** The first executable called `name` on PATH, like `command -v`. */
export function findOnPath(name: string, pathEnv: string | undefined): string | undefined {
  return which.sync(name, { path: pathEnv ?? '', nothrow: true }) ?? undefined;
}

export async function ensureKustomize(options: EnsureKustomizeOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const toolsBin = options.toolsBin ?? PROJECT_TOOLS_BIN;

  const onPath = findOnPath('kustomize', env.PATH);
  if (onPath) return onPath;

  const cached = join(toolsBin, 'kustomize');
  if (existsSync(cached)) return cached;

  const go = findOnPath('go', env.PATH);
  if (!go) {
    throw errors.SLO_ERR_ENV_MISSING_TOOL('kustomize is not on PATH and Go is not installed to build it',
      `install Go, then run: ${installCommandLine(toolsBin)}`);
  }
  const built = await execa(go, ['install', `${KUSTOMIZE_MODULE}@${KUSTOMIZE_VERSION}`], {
    env: { ...env, GOBIN: toolsBin, GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local' },
    extendEnv: false,
    reject: false,
    all: true,
    timeout: 10 * 60_000,
  });
  if (built.exitCode !== 0 || !existsSync(cached)) {
    const tail = (built.all ?? '').trim().split('\n').slice(-3).join(' | ');
    throw errors.SLO_ERR_ENV_INSTALL_FAILED(`building kustomize ${KUSTOMIZE_VERSION} failed: ${tail}`,
      `run by hand: ${installCommandLine(toolsBin)}`);
  }
  return cached;
}
