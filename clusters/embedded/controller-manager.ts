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
  /**
   * A compressed profile's time scale (0.1 = ten times shorter). The HPA's other clocks shrink with it:
   * the CPU initialization period (5 min upstream: a starting pod's CPU is not trusted before it is ready)
   * and the initial readiness delay (30 s), as a cluster operator would set them with these flags.
   */
  timeScale?: number;
}

/** Upstream defaults of the HPA's flags, scaled by `timeScale` (pure). */
export function hpaClockArgs(options: ControllerManagerOptions): string[] {
  const args = options.hpaSyncS ? [`--horizontal-pod-autoscaler-sync-period=${options.hpaSyncS}s`] : [];
  const scale = options.timeScale;
  if (scale === undefined || scale >= 1) return args;
  const seconds = (upstream: number) => `${Math.max(1, Math.round(upstream * scale))}s`;
  return [
    ...args,
    `--horizontal-pod-autoscaler-cpu-initialization-period=${seconds(300)}`,
    `--horizontal-pod-autoscaler-initial-readiness-delay=${seconds(30)}`,
    `--horizontal-pod-autoscaler-downscale-stabilization=${seconds(300)}`,
  ];
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
    ...hpaClockArgs(options),
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
