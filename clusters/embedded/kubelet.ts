// The kubelet: registers the node, runs pods through containerd's CRI. Settings follow
// hack/local-up-cluster.sh's KubeletConfiguration, with what this machine needs: cgroupfs (no systemd),
// its own root folder in the state folder, eviction thresholds low enough that a busy shared disk does not
// evict the pods under test, and image garbage collection off (our images cannot be pulled back).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonStep } from './daemon-step.ts';
import { kubeconfigPath } from './kubeconfig.ts';
import type { Layout } from './layout.ts';
import type { Step } from './steps.ts';

export function kubeletConfig(layout: Layout): object {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: '0.0.0.0',
    port: layout.ports.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: layout.ports.kubeletHealthz,
    cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: `unix://${layout.containerdSock}`,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: join(layout.certs, 'ca.crt') } },
    authorization: { mode: 'Webhook' },
    clusterDNS: [layout.dnsIp],
    clusterDomain: layout.clusterDomain,
    staticPodPath: layout.staticPods,
    podLogsDir: layout.podLogs,
    failSwapOn: false,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    // The kubelet sets its kernel defaults; node-settings.ts recorded the old values and restores them.
    protectKernelDefaults: false,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '2%', 'imagefs.available': '2%', 'nodefs.inodesFree': '2%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    containerLogMaxSize: '10Mi',
    containerLogMaxFiles: 2,
  };
}

export function kubeletArgs(layout: Layout): string[] {
  return [
    `--config=${join(layout.stateDir, 'kubelet.json')}`,
    `--kubeconfig=${kubeconfigPath(layout, 'kubelet')}`,
    `--root-dir=${layout.kubeletRoot}`,
    `--cert-dir=${join(layout.kubeletRoot, 'pki')}`, // its self-signed serving certificate
    `--hostname-override=${layout.nodeName}`,
    `--node-ip=${layout.nodeIp}`,
  ];
}

export function kubeletStep(layout: Layout): Step {
  const configFile = join(layout.stateDir, 'kubelet.json');
  return daemonStep(layout, {
    name: 'kubelet',
    binary: 'kubelet',
    args: kubeletArgs(layout),
    healthUrl: `http://127.0.0.1:${layout.ports.kubeletHealthz}/healthz`,
    prepare: () => {
      mkdirSync(layout.kubeletRoot, { recursive: true });
      mkdirSync(layout.staticPods, { recursive: true });
      writeFileSync(configFile, `${JSON.stringify(kubeletConfig(layout), null, 2)}\n`);
    },
    // The pods it ran are removed by the next step's teardown (pods.ts), while containerd still runs.
    cleanup: () => {
      rmSync(configFile, { force: true });
      rmSync(layout.staticPods, { recursive: true, force: true });
    },
  });
}
