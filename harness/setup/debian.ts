// Debian packages the local target needs (PostgreSQL for the database image, Chromium for the report
// tests). Presence is judged by the binary each package provides, since that is what the harness
// runs; as root the missing ones are installed with apt-get, otherwise the exact command is printed.
import { existsSync, readdirSync } from 'node:fs';
import { execa } from 'execa';
import { errors } from '../../contract/errors.ts';

/** The file each known package provides that the harness actually uses. */
export const PACKAGE_BINARIES: Readonly<Record<string, string>> = {
  'postgresql-15': '/usr/lib/postgresql/15/bin/postgres',
  chromium: '/usr/bin/chromium',
};

export interface EnsureOptions {
  log: (line: string) => void;
  /** Defaults to whether this process runs as root. */
  isRoot?: boolean;
}

async function dpkgInstalled(pkg: string): Promise<boolean> {
  const result = await execa('dpkg-query', ['-W', '-f=${Status}', pkg], { reject: false });
  return result.exitCode === 0 && String(result.stdout).includes('install ok installed');
}

/** Which of `pkgs` are missing: by their binary when known, by dpkg otherwise. */
export async function missingDebianPackages(pkgs: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const pkg of pkgs) {
    const binary = PACKAGE_BINARIES[pkg];
    const present = binary ? existsSync(binary) : await dpkgInstalled(pkg);
    if (!present) missing.push(pkg);
  }
  return missing;
}

export function installCommand(pkgs: readonly string[]): string {
  return `sudo apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
}

function aptListsEmpty(): boolean {
  try {
    return !readdirSync('/var/lib/apt/lists').some((file) => file.endsWith('_Packages') || file.endsWith('_Packages.lz4'));
  } catch {
    return true;
  }
}

const aptEnv = { DEBIAN_FRONTEND: 'noninteractive' };

async function aptGet(args: string[]) {
  return await execa('apt-get', args, { env: aptEnv, reject: false, all: true });
}

/**
 * Makes sure every package of `pkgs` is installed. As root, installs what is missing (running
 * `apt-get update` first when the package lists are empty, or once more when the install fails on stale
 * lists); otherwise throws SLO_ERR_ENV_MISSING_TOOL with the exact `sudo apt-get install` line (exit 3).
 */
export async function ensureDebianPackages(pkgs: readonly string[], options: EnsureOptions): Promise<void> {
  const missing = await missingDebianPackages(pkgs);
  if (missing.length === 0) return;
  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  if (!isRoot) {
    throw errors.SLO_ERR_ENV_MISSING_TOOL(`missing Debian packages: ${missing.join(', ')}`, `run: ${installCommand(missing)}`);
  }
  options.log(`installing ${missing.join(' ')} with apt-get`);
  if (aptListsEmpty()) await aptGet(['update']);
  const installArgs = ['install', '-y', '--no-install-recommends', ...missing];
  let result = await aptGet(installArgs);
  if (result.exitCode !== 0) {
    // Stale package lists are the usual cause ("Unable to locate package", 404 on a pool file).
    await aptGet(['update']);
    result = await aptGet(installArgs);
  }
  if (result.exitCode !== 0) {
    const tail = String(result.all ?? '').split('\n').slice(-5).join(' | ');
    throw errors.SLO_ERR_ENV_INSTALL_FAILED(`apt-get install ${missing.join(' ')} failed (exit ${result.exitCode}): ${tail}`);
  }
  const stillMissing = await missingDebianPackages(missing);
  if (stillMissing.length > 0) {
    throw errors.SLO_ERR_ENV_INSTALL_FAILED(`apt-get reported success but ${stillMissing.join(', ')} is still missing`);
  }
}
