// Where one embedded cluster keeps everything, and the addresses it uses: pure, so every step and every
// teardown agrees on the same paths from nothing but the state folder.
import { join } from 'node:path';

export interface Layout {
  stateDir: string;
  binDir: string;
  certs: string;
  logs: string;
  pids: string;
  etcdData: string;
  kubeletRoot: string;
  staticPods: string;
  /** Each container's log (the kubelet's podLogsDir; default /var/log/pods). */
  podLogs: string;
  containerdRoot: string;
  /** containerd's state (sockets, shim bundles): short, because unix socket paths are limited to 107 bytes. */
  runDir: string;
  containerdSock: string;
  cniConfDir: string;
  cniBinDir: string;
  /** host-local IPAM's leases (default /var/lib/cni/networks, which would outlive the cluster). */
  cniDataDir: string;
  /** Settings recorded before the node changed them, restored by the teardown. */
  recordedSysctls: string;
  adminKubeconfig: string;
  nodeName: string;
  nodeIp: string;
  ports: { apiserver: number; etcdClient: number; etcdPeer: number; controllerManager: number; scheduler: number; kubelet: number; kubeletHealthz: number; proxyHealthz: number; proxyMetrics: number };
  /** kind's defaults, so manifests behave as on kind. */
  serviceCidr: string;
  firstServiceIp: string;
  dnsIp: string;
  podCidr: string;
  clusterDomain: string;
  /** The CNI bridge: a name of our own, so teardown deletes only what this cluster made. */
  bridge: string;
}

export function layoutFor(stateDir: string, binDir: string, nodeIp: string, runDir = '/run/slo-embedded'): Layout {
  return {
    stateDir,
    binDir,
    certs: join(stateDir, 'pki'),
    logs: join(stateDir, 'logs'),
    pids: join(stateDir, 'pids'),
    etcdData: join(stateDir, 'etcd'),
    kubeletRoot: join(stateDir, 'kubelet'),
    staticPods: join(stateDir, 'static-pods'),
    podLogs: join(stateDir, 'pod-logs'),
    containerdRoot: join(stateDir, 'containerd'),
    runDir,
    containerdSock: join(runDir, 'containerd.sock'),
    cniConfDir: join(stateDir, 'cni', 'net.d'),
    cniBinDir: '/usr/lib/cni', // Debian's containernetworking-plugins
    cniDataDir: join(stateDir, 'cni', 'networks'),
    recordedSysctls: join(stateDir, 'sysctls.json'),
    adminKubeconfig: join(stateDir, 'admin.kubeconfig'),
    nodeName: 'slo-embedded',
    nodeIp,
    ports: { apiserver: 6443, etcdClient: 2379, etcdPeer: 2380, controllerManager: 10257, scheduler: 10259, kubelet: 10250, kubeletHealthz: 10248, proxyHealthz: 10256, proxyMetrics: 10249 },
    serviceCidr: '10.96.0.0/16',
    firstServiceIp: '10.96.0.1',
    dnsIp: '10.96.0.10',
    podCidr: '10.244.0.0/24',
    clusterDomain: 'cluster.local',
    bridge: 'slo0',
  };
}

type Interfaces = Record<string, { address: string; family: string | number; internal: boolean }[] | undefined>;

/**
 * The node's address: the first non-loopback IPv4 address (os.networkInterfaces()). Pods reach the kubelet
 * and the API server there, through the bridge's gateway, so the packets never leave the machine; 127.0.0.1
 * would be each pod's own loopback.
 */
export function pickNodeIp(interfaces: Interfaces): string | undefined {
  for (const [name, addresses] of Object.entries(interfaces)) {
    if (name.startsWith('cni') || name.startsWith('slo')) continue;
    const found = addresses?.find((a) => !a.internal && (a.family === 'IPv4' || a.family === 4));
    if (found) return found.address;
  }
  return undefined;
}
