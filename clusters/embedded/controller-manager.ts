// kube-controller-manager: every default controller (Deployments, ReplicaSets, the HPA, service accounts,
// the node lifecycle), signing with the cluster CA, one instance so no leader election.
import { join } from 'node:path';
import type { Layout } from './layout.ts';
import { daemonStep } from './daemon-step.ts';
import { kubeconfigPath } from './kubeconfig.ts';
import type { Step } from './steps.ts';

export interface ControllerManagerOptions {
  /** The HPA's sync period in seconds (15 upstream); compressed profiles shorten it. */
  hpaSyncS?: number;
}

export function controllerManagerArgs(layout: Layout, options: ControllerManagerOptions = {}): string[] {
  const kubeconfig = kubeconfigPath(layout, 'controller-manager');
  const pki = (file: string) => join(layout.certs, file);
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${layout.ports.controllerManager}`,
    `--client-ca-file=${pki('ca.crt')}`,
    `--requestheader-client-ca-file=${pki('front-proxy-ca.crt')}`,
    `--root-ca-file=${pki('ca.crt')}`,
    `--cluster-signing-cert-file=${pki('ca.crt')}`,
    `--cluster-signing-key-file=${pki('ca.key')}`,
    `--service-account-private-key-file=${pki('sa.key')}`,
    '--use-service-account-credentials=true',
    `--service-cluster-ip-range=${layout.serviceCidr}`,
    '--controllers=*',
    '--leader-elect=false',
    ...(options.hpaSyncS ? [`--horizontal-pod-autoscaler-sync-period=${options.hpaSyncS}s`] : []),
  ];
}

export function controllerManagerStep(layout: Layout, options: ControllerManagerOptions = {}): Step {
  return daemonStep(layout, {
    name: 'kube-controller-manager',
    binary: 'kube-controller-manager',
    args: controllerManagerArgs(layout, options),
    healthUrl: `https://127.0.0.1:${layout.ports.controllerManager}/healthz`,
  });
}
