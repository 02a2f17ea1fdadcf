// What a Kubernetes node changes on the machine, read in one go, so a test can say "after down, the host is
// as it was": kernel settings, mount propagation, links, routes, KUBE-/CNI- iptables chains, host folders,
// kubepods cgroups and containerd shims of the embedded cluster.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { execa } from 'execa';
import { readMounts } from '../clusters/embedded/mounts.ts';
import { HOST_FOLDERS } from '../clusters/embedded/node-settings.ts';
import { readSysctls } from '../clusters/embedded/sysctls.ts';

function processesMatching(text: string): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(text);
    } catch {
      return false;
    }
  });
}

export async function hostState() {
  const chains = async (cmd: string) => (await execa(cmd, [], { reject: false })).stdout.split('\n').filter((l) => /^:(KUBE|CNI)-|-j (KUBE|CNI)-/.test(l));
  return {
    sysctls: readSysctls(),
    propagation: readMounts().map((m) => `${m.id} ${m.mountPoint} ${m.propagation}`),
    links: Object.keys(networkInterfaces()).sort(),
    routes: (await execa('ip', ['route'])).stdout,
    iptables: [...await chains('iptables-save'), ...await chains('ip6tables-save')],
    folders: HOST_FOLDERS.filter((dir) => existsSync(dir)),
    cgroups: existsSync('/sys/fs/cgroup/memory/kubepods') || existsSync('/sys/fs/cgroup/kubepods'),
    netns: existsSync('/var/run/netns') ? readdirSync('/var/run/netns').sort() : [],
    clusterProcesses: processesMatching('slo-embedded'),
  };
}
