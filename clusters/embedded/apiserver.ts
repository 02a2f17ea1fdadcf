// kube-apiserver with the flags hack/local-up-cluster.sh and kubeadm give it: Node+RBAC authorization,
// service-account tokens signed with our key, the aggregation layer (front proxy) for metrics-server.
import { join } from 'node:path';
import type { Layout } from './layout.ts';
import { daemonStep } from './daemon-step.ts';
import type { Step } from './steps.ts';

export function apiserverArgs(layout: Layout): string[] {
  const pki = (file: string) => join(layout.certs, file);
  return [
    // Pods reach the API through the `kubernetes` Service, whose endpoint is this address; the host's own
    // components use 127.0.0.1. Both are on this machine.
    `--advertise-address=${layout.nodeIp}`,
    '--bind-address=0.0.0.0',
    `--secure-port=${layout.ports.apiserver}`,
    `--etcd-servers=http://127.0.0.1:${layout.ports.etcdClient}`,
    `--service-cluster-ip-range=${layout.serviceCidr}`,
    `--client-ca-file=${pki('ca.crt')}`,
    `--tls-cert-file=${pki('apiserver.crt')}`,
    `--tls-private-key-file=${pki('apiserver.key')}`,
    `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
    `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
    '--kubelet-preferred-address-types=InternalIP,Hostname',
    `--service-account-issuer=https://kubernetes.default.svc.${layout.clusterDomain}`,
    `--service-account-key-file=${pki('sa.pub')}`,
    `--service-account-signing-key-file=${pki('sa.key')}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    // Aggregation layer: how the API server proxies metrics.k8s.io to metrics-server.
    `--requestheader-client-ca-file=${pki('front-proxy-ca.crt')}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki('front-proxy-client.crt')}`,
    `--proxy-client-key-file=${pki('front-proxy-client.key')}`,
    // Straight to the metrics-server pod's address, not through its Service: works before and without
    // kube-proxy's rules.
    '--enable-aggregator-routing=true',
    '--profiling=false',
  ];
}

export function apiserverStep(layout: Layout): Step {
  return daemonStep(layout, {
    name: 'kube-apiserver',
    binary: 'kube-apiserver',
    args: apiserverArgs(layout),
    healthUrl: `https://127.0.0.1:${layout.ports.apiserver}/readyz`,
    probe: { ca: join(layout.certs, 'ca.crt') },
    timeoutMs: 180_000,
  });
}
