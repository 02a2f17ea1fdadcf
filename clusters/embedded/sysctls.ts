// Kernel settings the node changes, recorded before and restored by the teardown. The kubelet sets
// vm.overcommit_memory=1, vm.panic_on_oom=0, kernel.panic=10, kernel.panic_on_oops=1 and the key quotas
// (pkg/kubelet/cm setupKernelTunables, protectKernelDefaults=false); the CNI bridge turns on IPv4
// forwarding; kube-proxy sets route_localnet for NodePorts on 127.0.0.1 and may touch conntrack.
// kernel.panic_on_oops=1 on a shared VM would turn any kernel oops into a reboot: it must go back.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const NODE_SYSCTLS = [
  'kernel.panic',
  'kernel.panic_on_oops',
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
  'net.ipv4.ip_forward',
  'net.ipv4.conf.all.route_localnet',
  'net.bridge.bridge-nf-call-iptables',
  'net.bridge.bridge-nf-call-ip6tables',
  'net.netfilter.nf_conntrack_max',
  'net.netfilter.nf_conntrack_tcp_timeout_established',
  'net.netfilter.nf_conntrack_tcp_timeout_close_wait',
] as const;

export function sysctlPath(key: string): string {
  return `/proc/sys/${key.replaceAll('.', '/')}`;
}

/** Current values of the keys this kernel has (absent keys are left out, and so never "restored"). */
export function readSysctls(keys: readonly string[] = NODE_SYSCTLS): Record<string, string> {
  const values: Record<string, string> = {};
  for (const key of keys) {
    try {
      values[key] = readFileSync(sysctlPath(key), 'utf8').trim();
    } catch {
      // Not on this kernel (no br_netfilter, no conntrack yet): nothing to restore.
    }
  }
  return values;
}

/** Writes back what differs; returns the keys changed back, e.g. ["kernel.panic 10 -> 1"]. */
export function restoreSysctls(recorded: Record<string, string>): string[] {
  const changed: string[] = [];
  for (const [key, value] of Object.entries(recorded)) {
    const now = readSysctls([key])[key];
    if (now === undefined || now === value) continue;
    writeFileSync(sysctlPath(key), value);
    changed.push(`${key} ${now} -> ${value}`);
  }
  return changed;
}

/** The first recording wins: a second `up` on a changed node must not record the changed values. */
export function recordOnce<T>(file: string, read: () => T): T {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as T;
  const value = read();
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  return value;
}
