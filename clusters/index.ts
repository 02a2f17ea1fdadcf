// The adapters, in one typed map: `--cluster <name>` picks one, and an unknown name is a clear error
// (harness/commands/options.ts) instead of a fall-through. Each adapter is loaded only when chosen: the
// Kubernetes client alone costs seconds of start-up that a local run or a bad flag should not pay.
import type { ClusterFactory } from './types.ts';

export const clusterAdapters = {
  local: async () => (await import('./local/index.ts')).createLocalCluster,
  kind: async () => (await import('./kind/index.ts')).createKindCluster,
  kube: async () => (await import('./kube/index.ts')).createKubeCluster,
  embedded: async () => (await import('./embedded/index.ts')).createEmbeddedCluster,
} as const satisfies Record<string, () => Promise<ClusterFactory>>;

export type ClusterName = keyof typeof clusterAdapters;

export function loadClusterAdapter(name: ClusterName): Promise<ClusterFactory> {
  return clusterAdapters[name]();
}

/** Which adapters run on this machine's own processes (and so need the local Debian packages). */
export const LOCAL_ADAPTERS: ReadonlySet<ClusterName> = new Set(['local', 'embedded']);
