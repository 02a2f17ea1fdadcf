// Everything outside npm that a run or the tests need, installed or located in one place, so `slo run`
// and `npm test` agree on it. Each ensure* is cached and cheap the second time. The load engine's own
// program is the engine's business (load/engines.ts prepare()); k6 is never installed by this project.
import { DEBIAN_PACKAGES as EMBEDDED_CLUSTER_PACKAGES } from '../../clusters/embedded/preflight.ts';
import { ensureDebianPackages } from './debian.ts';
import { ensureKustomize } from './kustomize.ts';

/**
 * PostgreSQL 15 from Debian: the embedded cluster's operand image is built from it (CloudNativePG runs it),
 * and the reference service's tests and benches start it directly. Chromium only for the tests (the HTML
 * report is checked in a real browser).
 */
export const LOCAL_TARGET_PACKAGES = ['postgresql-15'] as const;
export const TEST_ONLY_PACKAGES = ['chromium'] as const;

export interface Toolchain {
  kustomize: string | null;
}

export interface ToolchainOptions {
  log: (line: string) => void;
  forTests?: boolean;
  /** The embedded target: its database image is built from this machine's PostgreSQL. */
  needsLocalTarget?: boolean;
  /** The embedded Kubernetes cluster: containerd, runc, the CNI plugins, iptables... (its own build is its own). */
  needsEmbeddedCluster?: boolean;
}

export async function ensureToolchain(options: ToolchainOptions): Promise<Toolchain> {
  const packages: string[] = [];
  if (options.forTests || options.needsLocalTarget !== false) packages.push(...LOCAL_TARGET_PACKAGES);
  if (options.forTests || options.needsEmbeddedCluster) packages.push(...EMBEDDED_CLUSTER_PACKAGES);
  if (options.forTests) packages.push(...TEST_ONLY_PACKAGES);
  if (packages.length > 0) await ensureDebianPackages(packages, { log: options.log });
  // kustomize only renders manifests (tests, kind); a local run does not need it.
  const kustomize = options.forTests ? await ensureKustomize() : null;
  return { kustomize };
}
