// The adapters, in one typed map: `--cluster <name>` picks one, and an unknown name is a clear error
// (harness/commands/options.ts) instead of a fall-through.
import type { ClusterFactory } from './types.ts';
import { createLocalCluster } from './local/index.ts';
import { createKindCluster } from './kind/index.ts';
import { createKubeCluster } from './kube/index.ts';

export const clusterAdapters = {
  local: createLocalCluster,
  kind: createKindCluster,
  kube: createKubeCluster,
} as const satisfies Record<string, ClusterFactory>;

export type ClusterName = keyof typeof clusterAdapters;

/** Which adapters run on this machine's own processes (and so need the local Debian packages). */
export const LOCAL_ADAPTERS: ReadonlySet<ClusterName> = new Set(['local']);
