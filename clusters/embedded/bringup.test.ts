import { describe, expect, it } from 'vitest';
import { apiserverArgs } from './apiserver.ts';
import { cniConflist } from './cni.ts';
import { containerdConfig } from './containerd.ts';
import { removalScript } from './iptables.ts';
import { kubeconfigText } from './kubeconfig.ts';
import { layoutFor, pickNodeIp } from './layout.ts';
import { isTopmost, mountOf, mountsUnder, parseMountinfo } from './mounts.ts';
import { guardRoutes } from './node-settings.ts';
import { certRequests, opensslArgs } from './pki.ts';
import { runSteps, teardown, type Step } from './steps.ts';
import { sysctlPath } from './sysctls.ts';

const layout = layoutFor('/var/lib/slo-embedded', '/bin-dir', '192.0.2.2');
const ctx = () => ({ log: () => undefined, signal: new AbortController().signal });

describe('steps', () => {
  function recorder(names: string[], failAt?: string) {
    const calls: string[] = [];
    const steps: Step[] = names.map((name) => ({
      name,
      up: async () => {
        calls.push(`up ${name}`);
        if (name === failAt) throw new Error(`${name} broke`);
      },
      down: async () => void calls.push(`down ${name}`),
    }));
    return { calls, steps };
  }

  it('runs up in order and nothing else when all succeed', async () => {
    const { calls, steps } = recorder(['a', 'b', 'c']);
    await runSteps(steps, ctx());
    expect(calls).toEqual(['up a', 'up b', 'up c']);
  });

  it('on a failure tears down every started step in reverse, the failed one included, and rethrows', async () => {
    const { calls, steps } = recorder(['a', 'b', 'c'], 'b');
    await expect(runSteps(steps, ctx())).rejects.toThrow('b broke');
    expect(calls).toEqual(['up a', 'up b', 'down b', 'down a']);
  });

  it('teardown goes on past a failing step and reports it', async () => {
    const calls: string[] = [];
    const steps: Step[] = ['a', 'b'].map((name) => ({
      name, up: async () => undefined,
      down: async () => {
        calls.push(name);
        if (name === 'b') throw new Error('busy');
      },
    }));
    await expect(teardown(steps, ctx())).rejects.toThrow('b: busy');
    expect(calls).toEqual(['b', 'a']);
  });
});

describe('pickNodeIp', () => {
  it.each([
    [{ lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }], eth0: [{ address: 'fe80::1', family: 'IPv6', internal: false }, { address: '192.0.2.2', family: 'IPv4', internal: false }] }, '192.0.2.2'],
    [{ slo0: [{ address: '10.244.0.1', family: 'IPv4', internal: false }], eth0: [{ address: '192.0.2.2', family: 4, internal: false }] }, '192.0.2.2'],
    [{ lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }] }, undefined],
  ])('%j -> %s', (interfaces, want) => expect(pickNodeIp(interfaces)).toBe(want));
});

describe('certificates', () => {
  it('gives the kubelet the identity the Node authorizer admits', () => {
    const kubelet = certRequests(layout).find((r) => r.name === 'kubelet');
    expect(kubelet).toMatchObject({ cn: 'system:node:slo-embedded', orgs: ['system:nodes'], usage: 'client' });
  });

  it('serves the API under every name pods and the host use', () => {
    const args = opensslArgs('/pki', certRequests(layout).find((r) => r.name === 'apiserver')!);
    const san = args.find((a) => a.startsWith('subjectAltName='));
    expect(san).toContain('DNS:kubernetes.default.svc.cluster.local');
    expect(san).toContain('IP:10.96.0.1');
    expect(san).toContain('IP:192.0.2.2');
    expect(san).toContain('IP:127.0.0.1');
    expect(args).toContain('extendedKeyUsage=serverAuth');
    expect(args.slice(args.indexOf('-CA'), args.indexOf('-CA') + 2)).toEqual(['-CA', '/pki/ca.crt']);
  });

  it('signs the front-proxy client with its own CA', () => {
    const args = opensslArgs('/pki', certRequests(layout).find((r) => r.name === 'front-proxy-client')!);
    expect(args).toContain('/pki/front-proxy-ca.key');
    expect(args).toContain('/CN=front-proxy-client');
  });

  it('puts groups before the common name in the subject', () => {
    const args = opensslArgs('/pki', { name: 'x', ca: 'ca', cn: 'u', orgs: ['g1', 'g2'], usage: 'client' });
    expect(args[args.indexOf('-subj') + 1]).toBe('/O=g1/O=g2/CN=u');
  });
});

describe('configuration files', () => {
  it('kubeconfig points at the loopback API with the user\'s own certificate', () => {
    const config = JSON.parse(kubeconfigText(layout, 'scheduler')) as { clusters: { cluster: { server: string } }[]; users: { user: Record<string, string> }[] };
    expect(config.clusters[0]?.cluster.server).toBe('https://127.0.0.1:6443');
    expect(config.users[0]?.user['client-certificate']).toBe('/var/lib/slo-embedded/pki/scheduler.crt');
  });

  it('containerd uses cgroupfs, our socket, our CNI folder and the pause image we build', () => {
    const toml = containerdConfig(layout);
    expect(toml).toContain('SystemdCgroup = false');
    expect(toml).toContain('address = "/run/slo-embedded/containerd.sock"');
    expect(toml).toContain(`conf_dir = "${layout.cniConfDir}"`);
    expect(toml).toContain('sandbox_image = "localhost/slo-embedded/pause:3.10.1"');
  });

  it('the CNI bridge is ours and keeps its leases in the state folder', () => {
    const conf = cniConflist(layout) as { plugins: { type: string; bridge?: string; ipam?: { dataDir: string } }[] };
    expect(conf.plugins[0]).toMatchObject({ type: 'bridge', bridge: 'slo0', ipam: { dataDir: '/var/lib/slo-embedded/cni/networks' } });
  });

  it('the API server advertises the node address and proxies to aggregated APIs', () => {
    const args = apiserverArgs(layout);
    expect(args).toContain('--advertise-address=192.0.2.2');
    expect(args).toContain('--requestheader-allowed-names=front-proxy-client');
    expect(args).toContain('--service-cluster-ip-range=10.96.0.0/16');
  });

  it('guards the Service range and a /16 around the pod range', () => {
    expect(guardRoutes(layout)).toEqual(['10.96.0.0/16', '10.244.0.0/16']);
  });

  it('maps a sysctl name to its /proc/sys file', () => {
    expect(sysctlPath('net.ipv4.conf.all.route_localnet')).toBe('/proc/sys/net/ipv4/conf/all/route_localnet');
  });
});

describe('mounts', () => {
  const mountinfo = [
    '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '30 22 0:40 / /var/lib/slo-embedded/kubelet/pods/u1/volumes/kubernetes.io~projected/token rw shared:5 - tmpfs tmpfs rw',
    '31 22 0:41 / /var/lib/slo-embedded/kubelet/pods/u1 rw master:2 - tmpfs tmpfs rw',
    '32 22 0:42 / /var/lib/slo-embedded-other rw - tmpfs tmpfs rw',
    '33 22 0:43 / /run/with\\040space rw shared:3 master:1 - tmpfs tmpfs rw',
  ].join('\n');

  it('reads propagation and unescapes mount points', () => {
    expect(parseMountinfo(mountinfo).map((m) => `${m.mountPoint} ${m.propagation}`)).toEqual([
      '/ shared',
      '/var/lib/slo-embedded/kubelet/pods/u1/volumes/kubernetes.io~projected/token shared',
      '/var/lib/slo-embedded/kubelet/pods/u1 slave',
      '/var/lib/slo-embedded-other private',
      '/run/with space shared+slave',
    ]);
  });

  it('finds the mount a folder lives on, and the visible one of a stack', () => {
    const stacked = parseMountinfo([
      '27 1 254:0 / / rw - ext4 /dev/vda rw',
      '25 24 0:23 / /dev/shm rw shared:17 - tmpfs tmpfs rw',
      '30 25 0:27 / /dev/shm rw - tmpfs tmpfs rw',
    ].join('\n'));
    expect(mountOf(stacked, '/var/lib/slo-embedded')?.id).toBe(27);
    expect(mountOf(stacked, '/dev/shm/x')?.id).toBe(30);
    expect(stacked.map((m) => isTopmost(stacked, m))).toEqual([true, false, true]);
  });

  it('lists mounts under a folder deepest first, and not a sibling with the same prefix', () => {
    expect(mountsUnder(parseMountinfo(mountinfo), ['/var/lib/slo-embedded'])).toEqual([
      '/var/lib/slo-embedded/kubelet/pods/u1/volumes/kubernetes.io~projected/token',
      '/var/lib/slo-embedded/kubelet/pods/u1',
    ]);
  });
});

describe('iptables removal', () => {
  const saved = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':CNI-abc123 - [0:0]',
    ':DOCKER - [0:0]',
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -s 10.244.0.5/32 -m comment --comment "name: \\"slo-embedded\\" id: \\"x\\"" -j CNI-abc123',
    '-A POSTROUTING -o eth0 -j MASQUERADE',
    '-A PREROUTING -j DOCKER',
    '-A KUBE-SERVICES -j KUBE-NODEPORTS',
    'COMMIT',
  ].join('\n');

  it('deletes jumps into our chains, then flushes and deletes the chains; leaves the rest', () => {
    expect(removalScript('nat', saved)).toBe([
      '*nat',
      '-D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-D POSTROUTING -s 10.244.0.5/32 -m comment --comment "name: \\"slo-embedded\\" id: \\"x\\"" -j CNI-abc123',
      '-F KUBE-SERVICES', '-F CNI-abc123', '-X KUBE-SERVICES', '-X CNI-abc123', 'COMMIT', '',
    ].join('\n'));
  });

  it('has nothing to do on a clean table', () => {
    expect(removalScript('filter', '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT')).toBeUndefined();
  });
});
