// The adapters, in one typed map: `--cluster <name>` picks one, and an unknown name is a clear error
// (harness/commands/options.ts) instead of a fall-through. Each adapter is loaded only when chosen: the
// Kubernetes client alone costs seconds of start-up that a local run or a bad flag should not pay.
import type { ClusterFactory } from './types.ts';

export const clusterAdapters = {
  // The default: a real single-node Kubernetes built and run on this machine (root). `embedded` is the
  // same adapter under the name it had before it became the default.
  local: async () => (await import('./embedded/index.ts')).createEmbeddedCluster,
  embedded: async () => (await import('./embedded/index.ts')).createEmbeddedCluster,
  kind: async () => (await import('./kind/index.ts')).createKindCluster,
  kube: async () => (await import('./kube/index.ts')).createKubeCluster,
  // A service already running at one URL, no cluster to observe or act on.
  url: async () => (await import('./url/index.ts')).createUrlTarget,
} as const satisfies Record<string, () => Promise<ClusterFactory>>;

export type ClusterName = keyof typeof clusterAdapters;

/** The adapters that are the embedded Kubernetes cluster (root; built from source here). */
export const EMBEDDED_ADAPTERS: ReadonlySet<ClusterName> = new Set(['local', 'embedded']);

export function loadClusterAdapter(name: ClusterName): Promise<ClusterFactory> {
  return clusterAdapters[name]();
}

/** Which adapters run on this machine's own processes (and so need the local Debian packages). */
export const LOCAL_ADAPTERS: ReadonlySet<ClusterName> = new Set(['local', 'embedded']);
