// The real thing: build (or reuse) the binaries, bring the cluster up as root, check what users rely on
// (node Ready, cluster DNS, `kubectl top`, a NodePort on 127.0.0.1), tear it down and check that the host is
// as it was. Opt-in (SLO_EMBEDDED_E2E=1): it needs root, changes kernel settings and iptables while it
// runs, and a cold build takes 13-19 minutes (BUILD.md).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from './addons.ts';
import { ensureKubernetesBinaries } from './build.ts';
import { clusterSteps } from './cluster.ts';
import { layoutFor, pickNodeIp, type Layout } from './layout.ts';
import { readMounts } from './mounts.ts';
import { HOST_FOLDERS } from './node-settings.ts';
import { readSysctls } from './sysctls.ts';
import { runSteps, teardown } from './steps.ts';

const enabled = process.env.SLO_EMBEDDED_E2E === '1' && process.getuid?.() === 0;

async function hostState() {
  const chains = async (cmd: string) => (await execa(cmd, [], { reject: false })).stdout.split('\n').filter((l) => /^:(KUBE|CNI)-|-j (KUBE|CNI)-/.test(l));
  return {
    sysctls: readSysctls(),
    propagation: readMounts().map((m) => `${m.id} ${m.mountPoint} ${m.propagation}`),
    links: Object.keys(networkInterfaces()).sort(),
    routes: (await execa('ip', ['route'])).stdout,
    iptables: [...await chains('iptables-save'), ...await chains('ip6tables-save')],
    folders: HOST_FOLDERS.filter((dir) => existsSync(dir)),
    cgroups: existsSync('/sys/fs/cgroup/memory/kubepods') || existsSync('/sys/fs/cgroup/kubepods'),
    shims: readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('/run/slo-embedded');
      } catch {
        return false;
      }
    }),
  };
}

describe.runIf(enabled)('embedded cluster on this machine', () => {
  let layout: Layout;
  let before: Awaited<ReturnType<typeof hostState>>;
  const ctx = { log: (line: string) => console.log(line), signal: new AbortController().signal };

  beforeAll(async () => {
    const { binDir } = await ensureKubernetesBinaries({ log: ctx.log });
    layout = layoutFor(`/var/lib/slo-embedded-e2e-${process.pid}`, binDir, pickNodeIp(networkInterfaces()) ?? '127.0.0.1');
    before = await hostState();
    await runSteps(clusterSteps(layout), ctx);
  }, 60 * 60_000);

  afterAll(async () => {
    if (layout) await teardown(clusterSteps(layout), ctx);
  }, 300_000);

  it('has a Ready node running v1.34.4', async () => {
    const node = JSON.parse((await kubectl(layout, ['get', 'node', layout.nodeName, '-o', 'json'])).stdout) as {
      status: { conditions: { type: string; status: string }[]; nodeInfo: { kubeletVersion: string } };
    };
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.status.nodeInfo.kubeletVersion).toBe('v1.34.4');
  });

  it('answers cluster DNS through the Service address', async () => {
    const resolver = new Resolver({ timeout: 2000, tries: 3 });
    resolver.setServers([layout.dnsIp]);
    expect(await resolver.resolve4(`kubernetes.default.svc.${layout.clusterDomain}`)).toEqual([layout.firstServiceIp]);
  });

  it('serves the metrics API (kubectl top)', async () => {
    let top = await kubectl(layout, ['top', 'node']);
    for (let i = 0; i < 30 && top.exitCode !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      top = await kubectl(layout, ['top', 'node']);
    }
    expect(top.stdout).toContain(layout.nodeName);
  }, 90_000);

  it('reaches a NodePort on 127.0.0.1', async () => {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'e2e-dns-metrics', namespace: 'kube-system' }, spec: { type: 'NodePort', selector: { 'k8s-app': 'kube-dns' }, ports: [{ port: 9153, targetPort: 9153, nodePort: 30153 }] } };
    expect((await kubectl(layout, ['apply', '-f', '-'], JSON.stringify(service))).exitCode).toBe(0);
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = await fetch('http://127.0.0.1:30153/metrics').then((r) => r.status, () => 0);
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(status).toBe(200);
  });

  it('leaves the host as it found it after teardown', async () => {
    await teardown(clusterSteps(layout), ctx);
    expect(await hostState()).toEqual(before);
  }, 300_000);
});
