// The cluster's own kubectl (built with it) as the cluster's admin: for applying manifests and waiting on
// rollouts during bring-up, where kubectl's apply and kustomize are what a user would run.
import { execa } from 'execa';
import type { Layout } from './layout.ts';

export function kubectl(layout: Layout, args: readonly string[], input?: string) {
  return execa(`${layout.binDir}/kubectl`, [`--kubeconfig=${layout.adminKubeconfig}`, ...args], { reject: false, all: true, ...(input ? { input } : {}) });
}
