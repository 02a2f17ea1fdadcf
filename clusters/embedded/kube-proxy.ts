// kube-proxy in iptables mode (the default on Linux). Conntrack limits are left alone (maxPerCore 0 and
// zero timeouts, as hack/local-up-cluster.sh does), so the only kernel setting it changes is
// route_localnet, which NodePorts on 127.0.0.1 need (the harness's load stays on loopback).
// Teardown: `kube-proxy --cleanup` removes its own rules, as upstream documents for switching modes.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { daemonStep } from './daemon-step.ts';
import { kubeconfigPath } from './kubeconfig.ts';
import type { Layout } from './layout.ts';
import type { Step } from './steps.ts';

export function kubeProxyConfig(layout: Layout): object {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: kubeconfigPath(layout, 'kube-proxy') },
    hostnameOverride: layout.nodeName,
    mode: 'iptables',
    clusterCIDR: layout.podCidr,
    healthzBindAddress: `127.0.0.1:${layout.ports.proxyHealthz}`,
    metricsBindAddress: `127.0.0.1:${layout.ports.proxyMetrics}`,
    conntrack: { maxPerCore: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    iptables: { localhostNodePorts: true },
  };
}

export function kubeProxyStep(layout: Layout): Step {
  const configFile = join(layout.stateDir, 'kube-proxy.json');
  const binary = join(layout.binDir, 'kube-proxy');
  return daemonStep(layout, {
    name: 'kube-proxy',
    binary: 'kube-proxy',
    args: [`--config=${configFile}`],
    healthUrl: `http://127.0.0.1:${layout.ports.proxyHealthz}/healthz`,
    prepare: () => writeFileSync(configFile, `${JSON.stringify(kubeProxyConfig(layout), null, 2)}\n`),
    cleanup: async () => {
      await execa(binary, ['--cleanup'], { reject: false, timeout: 60_000 });
      rmSync(configFile, { force: true });
    },
  });
}
