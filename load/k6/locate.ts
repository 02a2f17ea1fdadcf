// Finds the user's k6. k6 is AGPL-3.0: this project never fetches, builds or ships it. The k6 engine runs
// only where the user installed k6 themselves, as a separate program fed a script and read through its
// output (never linked, vendored or patched).
import { execa } from 'execa';
import which from 'which';
import { errors } from '../../contract/errors.ts';

/**
 * k6 major version whose CLI flags, CSV output and TypeScript support the k6 engine is written for (the
 * CSV format is described in load/k6/csv.ts). k6 v1 runs TypeScript scripts natively.
 */
export const SUPPORTED_K6_MAJOR = 1;

export const K6_INSTALL_HINT = 'install k6 v1.x (https://grafana.com/docs/k6/latest/set-up/install-k6/) onto PATH, or leave --engine out to use the embedded engine';

export async function k6Version(binary: string): Promise<string | null> {
  try {
    const { stdout } = await execa(binary, ['version'], { timeout: 10_000, reject: true });
    return /k6 v?(\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** The path of a supported k6 on PATH, or one line naming what is missing and how to install k6 (exit 3). */
export async function locateK6(pathEnv: string | undefined = process.env.PATH): Promise<string> {
  const found = which.sync('k6', { path: pathEnv ?? '', nothrow: true });
  if (!found) throw errors.SLO_ERR_ENV_MISSING_TOOL('--engine k6: no k6 on PATH', K6_INSTALL_HINT);
  const version = await k6Version(found);
  if (version === null) throw errors.SLO_ERR_ENV_MISSING_TOOL(`--engine k6: ${found} does not report a k6 version (k6 version)`, K6_INSTALL_HINT);
  if (Number(version.split('.')[0]) !== SUPPORTED_K6_MAJOR) {
    throw errors.SLO_ERR_ENV_MISSING_TOOL(`--engine k6: ${found} is k6 v${version}; the k6 engine supports v${SUPPORTED_K6_MAJOR}.x`, K6_INSTALL_HINT);
  }
  return found;
}
