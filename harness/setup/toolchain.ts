// Everything outside npm that a run or the tests need, installed or located in one place, so `slo run`
// and `npm test` agree on it. Each ensure* is cached and cheap the second time.
import { ensureDebianPackages } from './debian.ts';
import { ensureK6 } from '../../load/k6-install.ts';
import { ensureKustomize } from './kustomize.ts';

/** The local target's parts. Chromium only for the tests (the HTML report is checked in a real browser). */
export const LOCAL_TARGET_PACKAGES = ['postgresql-15', 'patroni', 'etcd-server', 'etcd-client', 'haproxy', 'prometheus'] as const;
export const TEST_ONLY_PACKAGES = ['chromium'] as const;

export interface Toolchain {
  k6: string;
  kustomize: string | null;
}

export async function ensureToolchain(options: { log: (line: string) => void; forTests?: boolean; needsLocalTarget?: boolean }): Promise<Toolchain> {
  const packages: string[] = [];
  if (options.forTests || options.needsLocalTarget !== false) packages.push(...LOCAL_TARGET_PACKAGES);
  if (options.forTests) packages.push(...TEST_ONLY_PACKAGES);
  if (packages.length > 0) await ensureDebianPackages(packages, { log: options.log });
  const k6 = await ensureK6({ log: options.log });
  // kustomize only renders manifests (tests, kind); a local run does not need it.
  const kustomize = options.forTests ? await ensureKustomize() : null;
  return { k6, kustomize };
}
