// The pod network: one bridge on this node, addresses from host-local, masquerade for traffic leaving the
// pod range, portmap for hostPort. Kept in our own folder (containerd's cni conf_dir), so /etc/cni is
// never touched and the teardown knows exactly what it made.
import type { Layout } from './layout.ts';

export const CNI_CONFLIST_NAME = '10-slo-embedded.conflist';
export const CNI_NETWORK_NAME = 'slo-embedded';

export function cniConflist(layout: Layout): object {
  return {
    cniVersion: '1.0.0', // Debian 12's plugins are v1.1.1: they speak 1.0.0
    name: CNI_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: layout.bridge,
        isGateway: true,
        ipMasq: true,
        // A pod reaching itself through its own Service (kube-proxy DNATs it back) needs hairpin.
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: layout.podCidr }]],
          routes: [{ dst: '0.0.0.0/0' }],
          // Default /var/lib/cni/networks would outlive the cluster.
          dataDir: layout.cniDataDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}
