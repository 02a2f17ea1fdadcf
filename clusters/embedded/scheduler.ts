// kube-scheduler with its defaults; one instance, so no leader election.
import type { Layout } from './layout.ts';
import { daemonStep } from './daemon-step.ts';
import { kubeconfigPath } from './kubeconfig.ts';
import type { Step } from './steps.ts';

export function schedulerArgs(layout: Layout): string[] {
  const kubeconfig = kubeconfigPath(layout, 'scheduler');
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${layout.ports.scheduler}`,
    '--leader-elect=false',
  ];
}

export function schedulerStep(layout: Layout): Step {
  return daemonStep(layout, {
    name: 'kube-scheduler',
    binary: 'kube-scheduler',
    args: schedulerArgs(layout),
    healthUrl: `https://127.0.0.1:${layout.ports.scheduler}/healthz`,
  });
}
