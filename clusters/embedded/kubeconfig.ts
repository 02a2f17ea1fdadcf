// Kubeconfig files for the admin and each component: client certificate by path, one cluster, one context.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Layout } from './layout.ts';
import type { Step } from './steps.ts';

/** Which kubeconfig uses which client certificate (pki.ts names). */
export const KUBECONFIG_USERS = ['admin', 'controller-manager', 'scheduler', 'kubelet', 'kube-proxy'] as const;
export type KubeconfigUser = (typeof KUBECONFIG_USERS)[number];

export function kubeconfigPath(layout: Layout, user: KubeconfigUser): string {
  return user === 'admin' ? layout.adminKubeconfig : join(layout.certs, `${user}.kubeconfig`);
}

/** The file's text (pure). JSON is valid YAML, and needs no quoting rules. */
export function kubeconfigText(layout: Layout, user: KubeconfigUser): string {
  return `${JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'slo-embedded', cluster: { server: `https://127.0.0.1:${layout.ports.apiserver}`, 'certificate-authority': join(layout.certs, 'ca.crt') } }],
    users: [{ name: user, user: { 'client-certificate': join(layout.certs, `${user}.crt`), 'client-key': join(layout.certs, `${user}.key`) } }],
    contexts: [{ name: 'slo-embedded', context: { cluster: 'slo-embedded', user } }],
    'current-context': 'slo-embedded',
  }, null, 2)}\n`;
}

export function kubeconfigStep(layout: Layout): Step {
  return {
    name: 'kubeconfigs',
    async up() {
      for (const user of KUBECONFIG_USERS) writeFileSync(kubeconfigPath(layout, user), kubeconfigText(layout, user), { mode: 0o600 });
    },
    async down() {
      for (const user of KUBECONFIG_USERS) rmSync(kubeconfigPath(layout, user), { force: true });
    },
  };
}
